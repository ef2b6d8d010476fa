import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import type { Transaction } from "../db/transaction.js";
import { RollbackError, RollbackPlanChangedError } from "../db/errors.js";
import { queryRows } from "../db/query.js";
import { readApplied, type AppliedMigration } from "./applied.js";
import { readMigrations, type MigrationFile } from "./files.js";
import type { LockTimeoutOptions } from "./lock-timeout.js";
import { runPlan, undoStep, type AppliedVia, type Step } from "./runner.js";

export interface RollbackOptions extends LockTimeoutOptions {
  /** Undo every migration applied after this one (it stays applied). Default: undo the last one. */
  to?: string;
  /**
   * Run the rollback in its transaction, then roll that back (Drizzle's `tx.rollback()`):
   * reports the plan, with the rows each step would drop, and proves its statements run;
   * changes nothing. While it runs it holds the locks the rollback would (with lock_timeout).
   */
  dryRun?: boolean;
  /** Allow a rollback that drops tables or columns holding rows. */
  force?: boolean;
  migrationsFolder?: string;
  appliedVia?: AppliedVia;
  /**
   * The migration the caller expects to be the last applied (what it saw in a dry run, say).
   * Without it, rollback reads the plan before taking the migration lock. Either way, once it
   * holds the lock it refuses (RollbackPlanChangedError, nothing changed) if the migrations to
   * undo are no longer the planned ones.
   */
  expectLast?: string;
}

export interface RollbackStep {
  migration: string;
  /** The rollback file, drizzle/rollback/<name>.sql. */
  file: string;
  statements: string[];
  /** Tables and columns holding rows that this step would drop, e.g. `courses (12 rows)`. */
  destroys: string[];
}

export interface RollbackResult {
  steps: RollbackStep[];
  applied: boolean;
}

/**
 * Undoes the last applied migration (or all after `to`), newest first, in one transaction:
 * runs each drizzle/rollback/<name>.sql, removes the migration from Drizzle's bookkeeping (so
 * `migrate` or `drizzle-kit migrate` applies it again later) and logs a `down` row in
 * migrations_log. Refuses with RollbackError, changing nothing; its `code` says why:
 * `ROLLBACK_WOULD_DESTROY_DATA` when a step would drop rows and `force` is not set,
 * `ROLLBACK_FILE_MISSING` when a rollback file is missing, `ROLLBACK_TARGET` when `to` or
 * `expectLast` names no applied migration, `ROLLBACK_FAILED` when a statement fails.
 * Two rollbacks started together undo one migration, not two: each plans what it will undo
 * before waiting for the migration lock, and the second, finding the plan changed once it holds
 * the lock, throws RollbackPlanChangedError instead of undoing the next one. Statements wait for
 * locks with `lock_timeout`, the whole rollback retried on a timeout: it is `migrate`'s runner
 * (runner.ts) given the migrations to undo as its plan.
 *
 * ```ts
 * const { steps } = await rollback(db, { dryRun: true });
 * ```
 */
export async function rollback(db: Database, options: RollbackOptions = {}): Promise<RollbackResult> {
  const files = readMigrations(options.migrationsFolder);
  const planned = await planTargets(db, files, options);
  const { steps } = await runPlan(db, files, {
    ...options,
    plan(applied) {
      const targets = chooseTargets(files, applied, options.to);
      const found = targets.map((t) => t.name);
      if (planned !== undefined && found.join() !== planned.join()) throw new RollbackPlanChangedError(planned, found);
      return targets.map(undoStep);
    },
    inspect: (tx, step) => refuseDataLoss(tx, step, options),
  });
  return {
    steps: steps.map(({ step, report }) => ({
      migration: step.migration.name,
      file: step.file,
      statements: step.statements,
      destroys: report ?? [],
    })),
    applied: steps.length > 0 && !options.dryRun,
  };
}

/**
 * What the rollback will undo, newest first, as seen before it waits for the migration lock:
 * `expectLast` when given (it must be the last applied), else read from the database now.
 * Undefined on a database never migrated.
 */
async function planTargets(
  db: Database,
  files: MigrationFile[],
  options: RollbackOptions,
): Promise<string[] | undefined> {
  if (options.expectLast !== undefined) {
    if (options.to !== undefined)
      throw new RollbackError("pass either to or expectLast, not both", { code: "ROLLBACK_TARGET" });
    const last = files.find((f) => f.name === options.expectLast);
    if (!last)
      throw new RollbackError(`expectLast ${options.expectLast}: no migration has that name`, {
        code: "ROLLBACK_TARGET",
      });
    return [last.name];
  }
  const applied = await readApplied(db);
  if (applied.length === 0) return undefined;
  try {
    return chooseTargets(files, applied, options.to).map((t) => t.name);
  } catch {
    return undefined; // the same check under the lock reports it
  }
}

type Undoable = MigrationFile & { rollback: NonNullable<MigrationFile["rollback"]> };
const hasRollback = (m: MigrationFile): m is Undoable => m.rollback !== undefined;

/** The migrations to undo, newest first: the last applied, or every one applied after `to`. */
function chooseTargets(files: MigrationFile[], appliedRows: AppliedMigration[], to: string | undefined): Undoable[] {
  const times = new Set(appliedRows.map((a) => a.journalTime));
  const applied = files.filter((f) => times.has(f.journalTime));
  if (to !== undefined && !applied.some((f) => f.name === to)) {
    const names = applied.map((f) => f.name).join(", ") || "none";
    throw new RollbackError(`--to ${to}: no applied migration has that name (applied: ${names})`, {
      code: "ROLLBACK_TARGET",
    });
  }
  const targets = (
    to === undefined ? applied.slice(-1) : applied.slice(applied.findIndex((f) => f.name === to) + 1)
  ).reverse();
  const undoable = targets.filter(hasRollback);
  if (undoable.length < targets.length) {
    const missing = targets.filter((t) => !hasRollback(t)).map((m) => m.name);
    throw new RollbackError(
      `no rollback for ${missing.join(", ")}: write drizzle/rollback/<name>.sql. Nothing was changed.`,
      { code: "ROLLBACK_FILE_MISSING" },
    );
  }
  return undoable;
}

/** The rows a step would drop; refuses (ROLLBACK_WOULD_DESTROY_DATA) unless forced or a dry run. */
async function refuseDataLoss(tx: Transaction, step: Step, options: RollbackOptions): Promise<string[]> {
  const destroys = await findDestroyedData(tx, step.statements);
  if (destroys.length > 0 && !options.force && !options.dryRun) {
    throw new RollbackError(
      `rolling back ${step.migration.name} would destroy data: ${destroys.join(", ")}. Nothing was changed; pass --force to roll back anyway.`,
      { code: "ROLLBACK_WOULD_DESTROY_DATA" },
    );
  }
  return destroys;
}

const DROP_TABLE = /^DROP TABLE (?:IF EXISTS )?((?:"?\w+"?\.)?"?(\w+)"?)/i;
const DROP_COLUMN = /^ALTER TABLE ((?:"?\w+"?\.)?"?(\w+)"?) DROP COLUMN (?:IF EXISTS )?"?(\w+)"?/i;

/**
 * Which tables or columns with rows the statements would drop. Row-level security would hide
 * rows from the owner (FORCE), so it is lifted for the count in a savepoint that is undone.
 */
async function findDestroyedData(tx: Transaction, statements: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const statement of statements) {
    const code = statement.replace(/^(\s*--[^\n]*\n)+/, "").trimStart();
    const m = DROP_TABLE.exec(code) ?? DROP_COLUMN.exec(code);
    if (!m) continue;
    const [, qualified, table, column] = m;
    const exists = await queryRows(tx, sql`SELECT to_regclass(${qualified!}) IS NOT NULL AS exists`);
    if (!exists[0]?.exists) continue;
    const count = await countRowsInSavepoint(tx, qualified!, column);
    if (count > 0) found.push(`${column ? `${table}.${column}` : table} (${count} rows)`);
  }
  return found;
}

async function countRowsInSavepoint(tx: Transaction, qualified: string, column: string | undefined): Promise<number> {
  await tx.execute(sql.raw("SAVEPOINT sensa_count"));
  try {
    await tx.execute(sql.raw(`ALTER TABLE ${qualified} NO FORCE ROW LEVEL SECURITY`));
    const [r] = await queryRows(
      tx,
      sql.raw(`SELECT count(*) AS n FROM ${qualified}${column ? ` WHERE "${column}" IS NOT NULL` : ""}`),
    );
    return Number(r?.n ?? 0);
  } finally {
    await tx.execute(sql.raw("ROLLBACK TO SAVEPOINT sensa_count"));
  }
}
