import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { dateOrNull, num, queryRows, str } from "../db/query.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface VacuumRow {
  schema: string;
  table: string;
  liveTuples: number;
  deadTuples: number;
  /** Dead tuples past which autovacuum vacuums this table (server settings; per-table overrides are not read). */
  autovacuumThreshold: number;
  /** Dead tuples are past the threshold: autovacuum should be at work on it, or cannot keep up. */
  autovacuumDue: boolean;
  modifiedSinceAnalyze: number;
  lastVacuum: Date | null;
  lastAutovacuum: Date | null;
  lastAnalyze: Date | null;
  lastAutoanalyze: Date | null;
}

/**
 * Dead tuples and the last (auto)vacuum and (auto)analyze of each table, most dead tuples
 * first, with the threshold at which autovacuum steps in. Needs no privilege beyond connecting.
 *
 * ```ts
 * const due = (await vacuumStats(db)).rows.filter((t) => t.autovacuumDue);
 * ```
 */
export async function vacuumStats(db: Queryable, options?: ListOptions): Promise<Report<VacuumRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT s.schemaname AS schema, s.relname AS table, s.n_live_tup AS live, s.n_dead_tup AS dead, s.n_mod_since_analyze AS modified,
        (current_setting('autovacuum_vacuum_threshold')::float8
          + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0))::bigint AS threshold,
        s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
      FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      ORDER BY s.n_dead_tup DESC, s.relname
      LIMIT ${limitOf(options)}`,
  );
  return {
    rows: rows.map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      liveTuples: num(r.live),
      deadTuples: num(r.dead),
      autovacuumThreshold: num(r.threshold),
      autovacuumDue: num(r.dead) > num(r.threshold),
      modifiedSinceAnalyze: num(r.modified),
      lastVacuum: dateOrNull(r.last_vacuum),
      lastAutovacuum: dateOrNull(r.last_autovacuum),
      lastAnalyze: dateOrNull(r.last_analyze),
      lastAutoanalyze: dateOrNull(r.last_autoanalyze),
    })),
    notes: [],
  };
}
