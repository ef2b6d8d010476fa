import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { MigrationLockTimeoutError, NonTransactionalMigrationError } from "../db/errors.js";
import { queryRows } from "../db/query.js";
import { recordApplied } from "./applied.js";
import { BREAKPOINT, NO_TRANSACTION_MARKER, type MigrationFile } from "./files.js";
import { setLockTimeout, withLockRetry, type LockTimeoutOptions } from "./lock-timeout.js";
import { markerStatement } from "./marker.js";
import { pgMessage } from "./session.js";

const CONCURRENT_INDEX =
  /^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i;
const PLAIN_INDEX = /^CREATE\s+(UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY\b)(?:IF\s+NOT\s+EXISTS\s+)?/i;

const withoutLeadingComments = (statement: string) => statement.replace(/^(\s*--[^\n]*\n)+/, "").trimStart();

/** The index a `CREATE INDEX CONCURRENTLY` statement builds, as written (quoted if it was). */
function concurrentIndexName(statement: string): string | undefined {
  return CONCURRENT_INDEX.exec(withoutLeadingComments(statement))?.[1];
}

/** The index, if it exists and is INVALID: what a failed or cancelled CONCURRENTLY build leaves. */
async function invalidIndex(session: Database, name: string): Promise<string | undefined> {
  const [row] = await queryRows(
    session,
    sql`SELECT x.indexrelid::regclass::text AS name FROM pg_index x WHERE x.indexrelid = to_regclass(${name}) AND NOT x.indisvalid`,
  );
  return row ? String(row.name) : undefined;
}

/**
 * Applies one non-transactional migration (NO_TRANSACTION_MARKER): each statement runs on its
 * own and commits, with lock_timeout, a lock timeout retrying that statement. Before a
 * `CREATE INDEX CONCURRENTLY`, an INVALID index of the same name (left by an earlier failed
 * build) is dropped, so running the migration again after a failure builds it afresh. Once
 * every statement succeeded, the migration is recorded (and so logged) in a transaction of its
 * own. Throws NonTransactionalMigrationError on failure. Returns the number of lock retries.
 */
export async function applyNonTransactional(
  session: Database,
  migration: MigrationFile,
  options: LockTimeoutOptions & { appliedVia: string; onInvalidIndexDropped?: (index: string) => void },
): Promise<number> {
  const [clock] = await queryRows(session, sql`SELECT clock_timestamp()::text AS started`);
  const marker = markerStatement(migration.name);
  const statements = migration.statements.filter((s) => s !== marker);
  let retries = 0;
  await setLockTimeout(session, options, false);
  try {
    for (const [index, statement] of statements.entries()) {
      const name = concurrentIndexName(statement);
      const run = async () => {
        const stale = name && (await invalidIndex(session, name));
        if (stale) {
          await session.execute(sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${stale}`));
          options.onInvalidIndexDropped?.(stale);
        }
        await session.execute(sql.raw(statement));
      };
      try {
        retries += (await withLockRetry(options, () => ({ migration: migration.name, statement }), run)).retries;
      } catch (error) {
        const left = name ? await invalidIndex(session, name).catch(() => undefined) : undefined;
        if (error instanceof MigrationLockTimeoutError && !left) throw error;
        throw new NonTransactionalMigrationError(migration.name, statement, pgMessage(error), index, left, error);
      }
    }
  } finally {
    await session.execute(sql.raw("RESET lock_timeout"));
  }
  await session.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('sensa.applied_via', ${options.appliedVia}, true)`);
    await tx.execute(sql`SELECT set_config('sensa.migration_name', ${migration.name}, true)`);
    // The log trigger measures the duration from this setting: the migration began before this transaction.
    await tx.execute(sql`SELECT set_config('sensa.migration_ended_at', ${String(clock!.started)}, true)`);
    await recordApplied(tx, migration);
  });
  return retries;
}

/**
 * For `db:generate`: when a schema migration drizzle-kit wrote holds nothing but new indexes,
 * the same migration made non-transactional, each index built `CONCURRENTLY` (writes to the
 * table go on during the build; a plain CREATE INDEX blocks them until it ends). Returns
 * undefined when the statements are not all plain `CREATE INDEX`.
 *
 * ```ts
 * concurrentIndexMigration(['CREATE INDEX "courses_title_idx" ON "courses" USING btree ("title");'])
 * // -- sensa-db: no-transaction … CREATE INDEX CONCURRENTLY IF NOT EXISTS "courses_title_idx" ON …
 * ```
 */
export function concurrentIndexMigration(statements: string[]): string | undefined {
  const code = statements.map(withoutLeadingComments).filter((s) => s.length > 0);
  if (code.length === 0 || !code.every((s) => PLAIN_INDEX.test(s))) return undefined;
  const header =
    `${NO_TRANSACTION_MARKER}\n` +
    `-- Generated by npm run db:generate: only new indexes, so each is built CONCURRENTLY, outside a transaction,\n` +
    `-- without blocking writes. If a build fails it leaves an INVALID index; sensa-db migrate drops it and builds it again.\n`;
  return (
    header +
    code
      .map((s) =>
        s.replace(
          PLAIN_INDEX,
          (_, unique: string | undefined) => `CREATE ${unique ?? ""}INDEX CONCURRENTLY IF NOT EXISTS `,
        ),
      )
      .join(`\n${BREAKPOINT}\n`) +
    "\n"
  );
}
