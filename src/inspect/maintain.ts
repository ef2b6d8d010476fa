import { sql } from "drizzle-orm";
import { isEmbedded, type Database } from "../connection.js";
import { queryRows, str } from "../db/query.js";
import { pgMessage } from "../migrations/session.js";
import { platformTableNames } from "./platform.js";

export interface MaintainOptions {
  /**
   * `VACUUM (FULL, ANALYZE)` instead of `VACUUM (ANALYZE)`: rewrites each table to give space
   * back to the operating system, but holds an ACCESS EXCLUSIVE lock on it for the whole
   * rewrite, so the app can neither read nor write that table meanwhile. Off by default.
   */
  full?: boolean;
  /** Called with one line per step as it starts and ends (the CLI prints them). */
  onLog?: (line: string) => void;
}

export interface MaintainStep {
  action: "vacuum analyze" | "vacuum full analyze" | "reindex concurrently" | "reindex";
  target: string;
  ok: boolean;
  ms: number;
  error: string | null;
}

export interface MaintainResult {
  ok: boolean;
  steps: MaintainStep[];
}

/**
 * The spec's "Vacuum and analyze", made safe to run while the app runs: `VACUUM (ANALYZE)` of
 * each platform table (no lock that blocks reads or writes; never `VACUUM FULL` unless
 * `full: true`), then `REINDEX INDEX CONCURRENTLY` of each INVALID index in the public schema (a
 * failed concurrent build leaves one; the rebuild does not block writes). Each step is logged
 * through `onLog` and returned with its duration; a failing step is recorded and the rest still
 * run. The table owner may do all of it (no superuser). On an embedded database, where there is
 * one session, the reindex is a plain REINDEX.
 *
 * ```ts
 * const { ok, steps } = await maintain(db, { onLog: console.log });
 * ```
 */
export async function maintain(db: Database, options: MaintainOptions = {}): Promise<MaintainResult> {
  const log = options.onLog ?? (() => {});
  const steps: MaintainStep[] = [];
  const step = async (action: MaintainStep["action"], target: string, statement: string) => {
    log(`${action} ${target} …`);
    const started = performance.now();
    let error: string | null = null;
    try {
      await db.execute(sql.raw(statement));
    } catch (e) {
      error = pgMessage(e);
    }
    const ms = Math.round(performance.now() - started);
    log(`${action} ${target}: ${error ? `failed: ${error}` : "done"} (${ms} ms)`);
    steps.push({ action, target, ok: error === null, ms, error });
  };
  const existing = new Set(
    (
      await queryRows(
        db,
        sql`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')`,
      )
    ).map((r) => str(r.relname)),
  );
  for (const table of platformTableNames().filter((t) => existing.has(t))) {
    if (options.full) await step("vacuum full analyze", table, `VACUUM (FULL, ANALYZE) "${table}"`);
    else await step("vacuum analyze", table, `VACUUM (ANALYZE) "${table}"`);
  }
  const invalid = await queryRows(
    db,
    sql`SELECT ic.relname AS name FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
      WHERE ic.relnamespace = 'public'::regnamespace AND NOT (x.indisvalid AND x.indisready) ORDER BY 1`,
  );
  const concurrently = !isEmbedded(db);
  for (const { name } of invalid) {
    const index = str(name);
    await step(
      concurrently ? "reindex concurrently" : "reindex",
      index,
      `REINDEX INDEX ${concurrently ? "CONCURRENTLY " : ""}"public"."${index.replace(/"/g, '""')}"`,
    );
  }
  return { ok: steps.every((s) => s.ok), steps };
}
