import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { MigrationTargetError } from "../db/errors.js";
import type { AppliedMigration } from "./applied.js";
import { pendingMigrations } from "./checksums.js";
import { readMigrations, type MigrationFile } from "./files.js";
import type { LockTimeoutOptions } from "./lock-timeout.js";
import { applyStep, runPlan, type AppliedVia } from "./runner.js";

export interface MigrateOptions extends LockTimeoutOptions {
  /** drizzle/ by default: the migrations shipped with this package. */
  migrationsFolder?: string;
  /** Recorded in migrations_log.applied_via. */
  appliedVia?: AppliedVia;
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
 * It is `rollback`'s runner (runner.ts) given the pending migrations as its plan.
 *
 * ```ts
 * const { applied } = await migrate(db);
 * ```
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const started = performance.now();
  const files = readMigrations(options.migrationsFolder);
  const { steps, lockRetries } = await runPlan(db, files, {
    ...options,
    createBookkeeping: true,
    plan: (applied) => pendingUpTo(files, applied, options.to).map(applyStep),
    finish: reassertDatabasePrivileges,
  });
  return { applied: steps.map((s) => s.step.migration.name), durationMs: performance.now() - started, lockRetries };
}

/** The pending migrations, up to and including `to` when given (MigrationTargetError if it is not pending). */
function pendingUpTo(files: MigrationFile[], applied: AppliedMigration[], to: string | undefined): MigrationFile[] {
  const pending = pendingMigrations(files, applied);
  if (to === undefined) return pending;
  const last = pending.findIndex((m) => m.name === to);
  if (last === -1)
    throw new MigrationTargetError(
      to,
      pending.map((m) => m.name),
    );
  return pending.slice(0, last + 1);
}

/**
 * Database-level privileges (who may CONNECT, create TEMPORARY objects) are not copied by
 * CREATE DATABASE … TEMPLATE or pg_dump, so a database cloned or restored from a migrated one
 * starts with PUBLIC's defaults again: every run re-applies them, once the migration that
 * defines secure_database() (sql/security/database.sql) is applied.
 */
async function reassertDatabasePrivileges(session: Database): Promise<void> {
  await session.execute(
    sql.raw(
      `DO $$ BEGIN IF to_regprocedure('public.secure_database()') IS NOT NULL THEN PERFORM public.secure_database(); END IF; END $$`,
    ),
  );
}
