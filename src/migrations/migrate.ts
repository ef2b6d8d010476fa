import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { MigrationError, MigrationTargetError } from "../errors.js";
import { ensureBookkeeping, readApplied } from "./applied.js";
import { pendingMigrations, verifyChecksums } from "./checksums.js";
import { loadExtensionLibraries } from "./extension-libraries.js";
import { readMigrations, type MigrationFile } from "./files.js";
import { setLockTimeout, withLockRetry, type LockTimeoutOptions } from "./lock-timeout.js";
import { applyNonTransactional } from "./non-transactional.js";
import { pgMessage, withMigrationLock, withSession } from "./session.js";

export interface MigrateOptions extends LockTimeoutOptions {
  /** drizzle/ by default: the migrations shipped with this package. */
  migrationsFolder?: string;
  /** Recorded in migrations_log.applied_via. */
  appliedVia?: "migrate()" | "sensa-db";
  /** Apply pending migrations up to and including this one only. */
  to?: string;
  /** Called when a non-transactional migration drops an INVALID index an earlier failed build left. */
  onInvalidIndexDropped?: (index: string) => void;
}

export interface MigrateResult {
  /** Names of the migrations this call applied, in order; empty when the database was current. */
  applied: string[];
  durationMs: number;
  /** How many attempts were abandoned on lock_timeout and tried again. */
  lockRetries: number;
}

/**
 * Applies the pending migrations of drizzle/ to a server or embedded database, as
 * `drizzle-kit migrate` would, and also:
 * - takes an advisory lock, so concurrent deploys apply each migration once;
 * - refuses (MigrationChecksumError) when an applied migration's file has been edited;
 * - runs the whole batch in one transaction: on failure (MigrationError, naming the file and the
 *   statement) the database is exactly as before;
 * - gives every statement a `lock_timeout` (`lockTimeoutMs`, default 5 s): an attempt that
 *   times out is rolled back whole and tried again after a pause (`lockRetries`, default 10),
 *   then fails with MigrationLockTimeoutError, nothing applied;
 * - runs a migration marked `-- sensa-db: no-transaction` alone, between the batches before
 *   and after it, statement by statement (for `CREATE INDEX CONCURRENTLY`); a failure there
 *   throws NonTransactionalMigrationError, the batches before it staying applied.
 *
 * ```ts
 * const { applied } = await migrate(db);
 * ```
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const started = performance.now();
  const files = readMigrations(options.migrationsFolder);
  let lockRetries = 0;
  const applied = await withSession(db, (session) =>
    withMigrationLock(session, async () => {
      await ensureBookkeeping(session);
      const done = await readApplied(session);
      verifyChecksums(files, done);
      let pending = pendingMigrations(files, done);
      if (options.to !== undefined) {
        const last = pending.findIndex((m) => m.name === options.to);
        if (last === -1) throw new MigrationTargetError(options.to, pending.map((m) => m.name));
        pending = pending.slice(0, last + 1);
      }
      if (pending.length > 0) {
        await loadExtensionLibraries(session);
        const committed: string[] = [];
        for (const segment of segments(pending)) {
          try {
            lockRetries += segment.transactional
              ? (await withLockRetry(options, lockedStatement, () => applyBatch(session, segment.migrations, options))).retries
              : await applyNonTransactional(session, segment.migrations[0]!, { ...options, appliedVia: options.appliedVia ?? "migrate()" });
          } catch (error) {
            if (committed.length > 0 && error instanceof Error) {
              error.message += `\nApplied before it, in earlier transactions, and kept: ${committed.join(", ")}.`;
            }
            throw error;
          }
          committed.push(...segment.migrations.map((m) => m.name));
        }
      }
      await reassertDatabasePrivileges(session);
      return pending.map((m) => m.name);
    }),
  );
  return { applied, durationMs: performance.now() - started, lockRetries };
}

/**
 * Pending migrations in order, grouped into what runs together: consecutive transactional
 * migrations share one transaction; a non-transactional one runs alone.
 */
function segments(pending: MigrationFile[]): Array<{ transactional: boolean; migrations: MigrationFile[] }> {
  const out: Array<{ transactional: boolean; migrations: MigrationFile[] }> = [];
  for (const m of pending) {
    const last = out.at(-1);
    if (m.transactional && last?.transactional) last.migrations.push(m);
    else out.push({ transactional: m.transactional, migrations: [m] });
  }
  return out;
}

const lockedStatement = (error: unknown) =>
  error instanceof MigrationError ? { migration: error.migration, statement: error.statement } : { migration: "?", statement: "?" };

async function applyBatch(session: Database, pending: MigrationFile[], options: MigrateOptions): Promise<void> {
  await session.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('sensa.applied_via', ${options.appliedVia ?? "migrate()"}, true)`);
    await setLockTimeout(tx, options, true);
    for (const migration of pending) {
      for (const statement of migration.statements) {
        try {
          await tx.execute(sql.raw(statement));
        } catch (error) {
          throw new MigrationError(migration.name, statement, pgMessage(error), error);
        }
      }
      await tx.execute(
        sql`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (${migration.hash}, ${migration.journalTime})`,
      );
    }
  });
}

/**
 * Database-level privileges (who may CONNECT, create TEMPORARY objects) are not copied by
 * CREATE DATABASE … TEMPLATE or pg_dump, so a database cloned or restored from a migrated one
 * starts with PUBLIC's defaults again: every run re-applies them, once the migration that
 * defines secure_database() (sql/security/database.sql) is applied.
 */
async function reassertDatabasePrivileges(session: Database): Promise<void> {
  await session.execute(
    sql.raw(`DO $$ BEGIN IF to_regprocedure('public.secure_database()') IS NOT NULL THEN PERFORM public.secure_database(); END IF; END $$`),
  );
}
