import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readMigrationFiles } from "drizzle-orm/migrator";

/** One migration of drizzle/, as Drizzle's journal lists it. */
export interface MigrationFile {
  /** The file name without `.sql`, e.g. `0001_schema`: the name used everywhere. */
  name: string;
  /** The journal's `when`: Drizzle's `created_at` for the migration, and its order key. */
  journalTime: number;
  /** sha256 of the whole file, as Drizzle stores it in `__drizzle_migrations.hash`. */
  hash: string;
  /** The statements, split on Drizzle's `--> statement-breakpoint` as Drizzle does. */
  statements: string[];
  /**
   * False when the file carries NO_TRANSACTION_MARKER: `migrate` then runs it alone, outside
   * the batch transaction, one statement at a time (see non-transactional.ts).
   */
  transactional: boolean;
  /** The rollback kept beside it in drizzle/rollback/<name>.sql, if there is one. */
  rollback: { path: string; sql: string; statements: string[] } | undefined;
}

interface Journal {
  entries: Array<{ idx: number; when: number; tag: string }>;
}

export const BREAKPOINT = "--> statement-breakpoint";

/**
 * A line of its own, anywhere in a migration file, that makes it non-transactional: for
 * statements PostgreSQL refuses inside a transaction block (`CREATE INDEX CONCURRENTLY`,
 * `REINDEX CONCURRENTLY`, `ALTER TYPE … ADD VALUE` before PostgreSQL 12…). Such a migration
 * runs alone, between the transactional batches before and after it, still under the
 * migration lock, logged and checksummed. Each statement commits on its own, so the file must
 * be safe to run again from its first statement after a failure (`IF NOT EXISTS`; the runner
 * drops an INVALID index a failed `CREATE INDEX CONCURRENTLY` left behind before building it
 * again).
 */
export const NO_TRANSACTION_MARKER = "-- sensa-db: no-transaction";

const isNonTransactional = (sql: string) => sql.split("\n").some((line) => line.trim() === NO_TRANSACTION_MARKER);

/**
 * The drizzle/ folder shipped with this package. Found by walking up from this module, because
 * it sits at different depths in src/ (tsx, tests) and dist/src/ (the published build).
 */
export function defaultMigrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "drizzle", "meta", "_journal.json"))) return join(dir, "drizzle");
    const parent = dirname(dir);
    if (parent === dir) throw new Error("drizzle/meta/_journal.json not found above " + import.meta.url);
    dir = parent;
  }
}

export function splitStatements(sql: string): string[] {
  return sql
    .split(BREAKPOINT)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Reads drizzle/ in journal order with Drizzle's own reader (`readMigrationFiles` of
 * drizzle-orm/migrator, what `drizzle-kit migrate` and Drizzle's `migrate()` use), so the
 * checksum is the hash Drizzle stores in `__drizzle_migrations.hash` by construction, not by a
 * copy of its rule. Drizzle returns neither the file's name nor its marker: the name is the
 * journal's tag at the same position, and the file is Drizzle's pieces joined again (splitting
 * on the breakpoint and joining on it gives back the same text). Adds the rollback file kept in
 * drizzle/rollback/.
 */
export function readMigrations(folder: string = defaultMigrationsFolder()): MigrationFile[] {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as Journal;
  return readMigrationFiles({ migrationsFolder: folder }).map((drizzle, i) => {
    const name = journal.entries[i]!.tag;
    const sql = drizzle.sql.join(BREAKPOINT);
    return {
      name,
      journalTime: drizzle.folderMillis,
      hash: drizzle.hash,
      statements: splitStatements(sql),
      transactional: !isNonTransactional(sql),
      rollback: readRollback(folder, name),
    };
  });
}

function readRollback(folder: string, name: string): MigrationFile["rollback"] {
  const path = resolve(folder, "rollback", `${name}.sql`);
  if (!existsSync(path)) return undefined;
  const sql = readFileSync(path, "utf8");
  return { path, sql, statements: splitStatements(sql) };
}
