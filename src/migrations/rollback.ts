import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import type { Transaction } from "../context.js";
import { RollbackError, RollbackPlanChangedError } from "../errors.js";
import { queryRows } from "../functions/rows.js";
import { readApplied } from "./applied.js";
import { verifyChecksums } from "./checksums.js";
import { loadExtensionLibraries } from "./extension-libraries.js";
import { readMigrations, type MigrationFile } from "./files.js";
import { setLockTimeout, withLockRetry, type LockTimeoutOptions } from "./lock-timeout.js";
import { pgMessage, withMigrationLock, withSession } from "./session.js";

export interface RollbackOptions extends LockTimeoutOptions {
  /** Undo every migration applied after this one (it stays applied). Default: undo the last one. */
  to?: string;
  /** Work out the plan, change nothing. */
  dryRun?: boolean;
  /** Allow a rollback that drops tables or columns holding rows. */
  force?: boolean;
  migrationsFolder?: string;
  appliedVia?: "migrate()" | "sensa-db";
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
 * migrations_log. Refuses with RollbackError, changing nothing, when a step would drop data
 * and `force` is not set, when a rollback file is missing, or when a statement fails.
 * Two rollbacks started together undo one migration, not two: each plans what it will undo
 * before waiting for the migration lock, and the second, finding the plan changed once it holds
 * the lock, throws RollbackPlanChangedError instead of undoing the next one. Statements wait for
 * locks with `lock_timeout`, the whole rollback retried on a timeout, as `migrate` does.
 *
 * ```ts
 * const { steps } = await rollback(db, { dryRun: true });
 * ```
 */
export async function rollback(db: Database, options: RollbackOptions = {}): Promise<RollbackResult> {
  const files = readMigrations(options.migrationsFolder);
  const names = (targets: MigrationFile[]) => targets.map((t) => t.name);
  const planned = await planTargets(db, files, options);
  return withSession(db, (session) =>
    withMigrationLock(session, async () => {
      const applied = await readApplied(session);
      verifyChecksums(files, applied);
      const targets = chooseTargets(files, applied.map((a) => a.journalTime), options.to);
      if (planned !== undefined && names(targets).join() !== planned.join()) throw new RollbackPlanChangedError(planned, names(targets));
      if (targets.length === 0) return { steps: [], applied: false };
      await loadExtensionLibraries(session);
      let plan: RollbackStep[] = [];
      // The plan is worked out inside the transaction that would apply it, so what it reports
      // (rows about to be dropped) is what would happen; a dry run then rolls it all back.
      const attempt = () =>
        session.transaction(async (tx) => {
          plan = [];
          await tx.execute(sql`SELECT set_config('sensa.applied_via', ${options.appliedVia ?? "migrate()"}, true)`);
          await setLockTimeout(tx, options, true);
          for (const migration of targets) {
            const started = performance.now();
            const statements = migration.rollback!.statements;
            const step: RollbackStep = {
              migration: migration.name,
              file: `drizzle/rollback/${migration.name}.sql`,
              statements,
              destroys: await findDestroyedData(tx, statements),
            };
            plan.push(step);
            if (options.dryRun) continue;
            if (step.destroys.length > 0 && !options.force) {
              throw new RollbackError(
                `rolling back ${migration.name} would destroy data: ${step.destroys.join(", ")}. Nothing was changed; pass --force to roll back anyway.`,
              );
            }
            for (const statement of statements) {
              try {
                await tx.execute(sql.raw(statement));
              } catch (error) {
                throw new RollbackError(
                  `rollback ${step.file} failed: ${pgMessage(error)}\n  in statement: ${statement.slice(0, 500)}\nNothing was changed.`,
                  { cause: error },
                );
              }
            }
            await tx.execute(sql`DELETE FROM drizzle.__drizzle_migrations WHERE created_at = ${migration.journalTime}`);
            await logDown(tx, migration, performance.now() - started);
          }
          if (options.dryRun) throw DRY_RUN;
        });
      try {
        await withLockRetry(options, (error) => ({ migration: targets[0]!.name, statement: lockedStatementOf(error) }), attempt);
      } catch (error) {
        if (error !== DRY_RUN) throw error;
      }
      return { steps: plan, applied: !options.dryRun };
    }),
  );
}

const DRY_RUN = Symbol("dry run: roll the transaction back");

const lockedStatementOf = (error: unknown) => /in statement: ([^\n]*)/.exec(error instanceof Error ? error.message : "")?.[1] ?? "?";

/**
 * What the rollback will undo, newest first, as seen before it waits for the migration lock:
 * `expectLast` when given (it must be the last applied), else read from the database now.
 * Undefined on a database never migrated.
 */
async function planTargets(db: Database, files: MigrationFile[], options: RollbackOptions): Promise<string[] | undefined> {
  const applied = (await readApplied(db)).map((a) => a.journalTime);
  if (options.expectLast !== undefined) {
    if (options.to !== undefined) throw new RollbackError("pass either to or expectLast, not both");
    const last = files.find((f) => f.name === options.expectLast);
    if (!last) throw new RollbackError(`expectLast ${options.expectLast}: no migration has that name`);
    return [last.name];
  }
  if (applied.length === 0) return undefined;
  try {
    return chooseTargets(files, applied, options.to).map((t) => t.name);
  } catch {
    return undefined; // the same check under the lock reports it
  }
}

function chooseTargets(files: MigrationFile[], appliedTimes: number[], to: string | undefined): MigrationFile[] {
  const applied = files.filter((f) => appliedTimes.includes(f.journalTime));
  let targets: MigrationFile[];
  if (to === undefined) targets = applied.slice(-1);
  else {
    const index = applied.findIndex((f) => f.name === to);
    if (index === -1) {
      throw new RollbackError(`--to ${to}: no applied migration has that name (applied: ${applied.map((f) => f.name).join(", ") || "none"})`);
    }
    targets = applied.slice(index + 1);
  }
  const missing = targets.filter((t) => !t.rollback);
  if (missing.length) {
    throw new RollbackError(`no rollback for ${missing.map((m) => m.name).join(", ")}: write drizzle/rollback/<name>.sql. Nothing was changed.`);
  }
  return targets.reverse();
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
    const [r] = await queryRows(tx, sql.raw(`SELECT count(*) AS n FROM ${qualified}${column ? ` WHERE "${column}" IS NOT NULL` : ""}`));
    return Number(r?.n ?? 0);
  } finally {
    await tx.execute(sql.raw("ROLLBACK TO SAVEPOINT sensa_count"));
  }
}

async function logDown(tx: Transaction, migration: MigrationFile, durationMs: number): Promise<void> {
  // Rolling back the bootstrap migration drops migrations_log itself.
  const [log] = await queryRows(tx, sql`SELECT to_regclass('public.migrations_log') IS NOT NULL AS exists`);
  if (!log?.exists) return;
  await tx.execute(sql`
    INSERT INTO migrations_log (migration_name, checksum, direction, applied_via, duration_ms)
    VALUES (${migration.name}, ${migration.hash}, 'down', current_setting('sensa.applied_via'), ${Math.round(durationMs)})`);
}
