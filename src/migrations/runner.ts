import { sql, TransactionRollbackError } from "drizzle-orm";
import type { Database } from "../connection.js";
import type { Transaction } from "../db/transaction.js";
import { ConfigurationError, MigrationError, RollbackError } from "../db/errors.js";
import { queryRows } from "../db/query.js";
import { ensureBookkeeping, forgetApplied, readApplied, recordApplied, type AppliedMigration } from "./applied.js";
import { verifyChecksums } from "./checksums.js";
import { loadExtensionLibraries } from "./extension-libraries.js";
import type { MigrationFile } from "./files.js";
import { setLockTimeout, withLockRetry, type LockTimeoutOptions } from "./lock-timeout.js";
import { applyNonTransactional } from "./non-transactional.js";
import { pgMessage, withLockedSession } from "./session.js";

/** Who ran a migration, as migrations_log.applied_via records it. */
export type AppliedVia = "migrate()" | "sensa-db";

/** One thing the runner does: apply a migration (`up`: its file) or undo one (`down`: its rollback file). */
export interface Step {
  direction: "up" | "down";
  migration: MigrationFile;
  /** Where the statements come from, as messages and reports name it. */
  file: string;
  statements: string[];
  /** False only to apply a non-transactional migration: it runs alone, statement by statement. */
  transactional: boolean;
}

export const applyStep = (migration: MigrationFile): Step => ({
  direction: "up",
  migration,
  file: `drizzle/${migration.name}.sql`,
  statements: migration.statements,
  transactional: migration.transactional,
});

/** Undoes `migration` with its rollback file; a rollback file always runs in the transaction. */
export const undoStep = (migration: MigrationFile & { rollback: NonNullable<MigrationFile["rollback"]> }): Step => ({
  direction: "down",
  migration,
  file: `drizzle/rollback/${migration.name}.sql`,
  statements: migration.rollback.statements,
  transactional: true,
});

export interface RunOptions<Report> extends LockTimeoutOptions {
  /** Recorded in migrations_log.applied_via. Default `migrate()`. */
  appliedVia?: AppliedVia;
  /**
   * Run the whole plan in one transaction, then roll it back with Drizzle's `tx.rollback()`:
   * every statement runs (so a failing one is reported) and nothing stays. Every step must be
   * transactional.
   */
  dryRun?: boolean;
  /** Create Drizzle's bookkeeping table first, as Drizzle's migrator does; otherwise only read it. */
  createBookkeeping?: boolean;
  /** Called when a non-transactional migration drops an INVALID index an earlier failed build left. */
  onInvalidIndexDropped?: (index: string) => void;
  /** Under the lock, once the checksums are verified: the steps to run, in order. May throw to refuse. */
  plan(applied: AppliedMigration[]): Step[];
  /**
   * In a step's transaction, before its statements: what to report about the step. May throw to
   * refuse it; the transaction then rolls back, nothing changed.
   */
  inspect?(tx: Transaction, step: Step): Promise<Report>;
  /** Under the lock, after the plan ran (or found nothing to do). */
  finish?(session: Database): Promise<void>;
}

export interface RunResult<Report> {
  /** The steps run (rolled back again in a dry run), in order, with what `inspect` reported. */
  steps: Array<{ step: Step; report: Report | undefined }>;
  /** How many attempts were abandoned on lock_timeout and tried again. */
  lockRetries: number;
}

/**
 * The one runner behind `migrate` and `rollback`. On one session, under the migration lock:
 * reads what is applied (checksums verified), asks `plan` for the steps, then runs them in as
 * few transactions as possible: consecutive transactional steps share one (so a failure leaves
 * the database as it was), a non-transactional migration runs alone between them. Each step's
 * statements run with `lock_timeout`; a transaction that times out is rolled back whole and
 * tried again (see lock-timeout.ts). Each step is recorded in Drizzle's bookkeeping (applied
 * or forgotten) and in migrations_log. A failing statement throws MigrationError (`up`) or
 * RollbackError `ROLLBACK_FAILED` (`down`), naming the file and the statement.
 *
 * ```ts
 * const files = readMigrations();
 * const { steps } = await runPlan(db, files, { plan: (applied) => pendingMigrations(files, applied).map(applyStep) });
 * ```
 */
export function runPlan<Report = undefined>(
  db: Database,
  files: MigrationFile[],
  options: RunOptions<Report>,
): Promise<RunResult<Report>> {
  return withLockedSession(db, async (session) => {
    if (options.createBookkeeping) await ensureBookkeeping(session);
    const applied = await readApplied(session);
    verifyChecksums(files, applied);
    const steps = options.plan(applied);
    const result: RunResult<Report> = { steps: [], lockRetries: 0 };
    if (steps.length > 0) await loadExtensionLibraries(session);
    for (const group of groupSteps(steps, options.dryRun ?? false)) {
      try {
        const done = group.transactional
          ? await runInTransaction(session, group.steps, options)
          : await runAlone(session, group.steps[0]!, options);
        result.steps.push(...done.steps);
        result.lockRetries += done.retries;
      } catch (error) {
        throw mentionKept(error, result.steps);
      }
    }
    await options.finish?.(session);
    return result;
  });
}

interface Group {
  transactional: boolean;
  steps: Step[];
}

interface Done<Report> {
  steps: RunResult<Report>["steps"];
  retries: number;
}

/** Consecutive transactional steps share a transaction; a non-transactional one is a group alone. */
function groupSteps(steps: Step[], dryRun: boolean): Group[] {
  const alone = steps.find((s) => !s.transactional);
  if (dryRun && alone)
    throw new ConfigurationError(
      `a dry run cannot include ${alone.migration.name}: a non-transactional migration commits as it runs`,
    );
  const groups: Group[] = [];
  for (const step of steps) {
    const last = groups.at(-1);
    if (step.transactional && last?.transactional) last.steps.push(step);
    else groups.push({ transactional: step.transactional, steps: [step] });
  }
  return groups;
}

/** Where the transaction is, so that a lock timeout names the migration and statement that waited. */
interface Position {
  migration: string;
  statement: string;
}

async function runInTransaction<Report>(
  session: Database,
  steps: Step[],
  options: RunOptions<Report>,
): Promise<Done<Report>> {
  const at: Position = { migration: steps[0]!.migration.name, statement: "?" };
  let done: Done<Report>["steps"] = [];
  const attempt = () =>
    session.transaction(async (tx) => {
      done = [];
      await tx.execute(sql`SELECT set_config('sensa.applied_via', ${options.appliedVia ?? "migrate()"}, true)`);
      await setLockTimeout(tx, options, true);
      for (const step of steps) done.push({ step, report: await runStep(tx, step, options, at) });
      if (options.dryRun) tx.rollback();
    });
  try {
    const { retries } = await withLockRetry(options, () => at, attempt);
    return { steps: done, retries };
  } catch (error) {
    if (options.dryRun && error instanceof TransactionRollbackError) return { steps: done, retries: 0 };
    throw error;
  }
}

/** One step inside the transaction: its checks, its statements, then its bookkeeping. */
async function runStep<Report>(
  tx: Transaction,
  step: Step,
  options: RunOptions<Report>,
  at: Position,
): Promise<Report | undefined> {
  const started = performance.now();
  Object.assign(at, { migration: step.migration.name, statement: `(the checks before ${step.file})` });
  const report = await options.inspect?.(tx, step);
  for (const statement of step.statements) {
    at.statement = statement;
    await tx.execute(sql.raw(statement)).catch((error: unknown) => {
      throw stepFailed(step, statement, error);
    });
  }
  await record(tx, step, performance.now() - started);
  return report;
}

async function runAlone<Report>(session: Database, step: Step, options: RunOptions<Report>): Promise<Done<Report>> {
  const retries = await applyNonTransactional(session, step.migration, {
    ...options,
    appliedVia: options.appliedVia ?? "migrate()",
  });
  return { steps: [{ step, report: undefined }], retries };
}

function stepFailed(step: Step, statement: string, error: unknown): Error {
  if (step.direction === "up") return new MigrationError(step.migration.name, statement, pgMessage(error), error);
  return new RollbackError(
    `rollback ${step.file} failed: ${pgMessage(error)}\n  in statement: ${statement.slice(0, 500)}\nNothing was changed.`,
    {
      cause: error,
      code: "ROLLBACK_FAILED",
    },
  );
}

/** Drizzle's bookkeeping, and migrations_log: applying logs through the trigger, undoing here. */
async function record(tx: Transaction, step: Step, durationMs: number): Promise<void> {
  if (step.direction === "up") return recordApplied(tx, step.migration);
  await forgetApplied(tx, step.migration);
  // Rolling back the bootstrap migration drops migrations_log itself.
  const [log] = await queryRows(tx, sql`SELECT to_regclass('public.migrations_log') IS NOT NULL AS exists`);
  if (!log?.exists) return;
  await tx.execute(sql`
    INSERT INTO migrations_log (migration_name, checksum, direction, applied_via, duration_ms)
    VALUES (${step.migration.name}, ${step.migration.hash}, 'down', current_setting('sensa.applied_via'), ${Math.round(durationMs)})`);
}

/** A failure after earlier groups committed says which migrations stay applied. */
function mentionKept(error: unknown, kept: RunResult<unknown>["steps"]): unknown {
  if (kept.length > 0 && error instanceof Error) {
    error.message += `\nApplied before it, in earlier transactions, and kept: ${kept.map((s) => s.step.migration.name).join(", ")}.`;
  }
  return error;
}
