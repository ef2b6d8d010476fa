import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { InspectUnavailableError } from "../db/errors.js";
import { num, queryRows, str, strOrNull } from "../db/query.js";
import { readAccess } from "./access.js";
import { INSUFFICIENT_PRIVILEGE, NOT_IN_PREREQUISITE_STATE, sqlState } from "./pg-error.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface SlowQueryRow {
  query: string;
  role: string | null;
  calls: number;
  meanMs: number;
  maxMs: number;
  totalMs: number;
  rows: number;
  /** Share of the shared buffer reads served from cache, null when the statement read nothing. */
  cacheHitRatio: number | null;
}

export interface SlowQueryOptions extends ListOptions {
  /** `mean` (the spec's order, the default), `total` (Supabase's "outliers") or `calls`. */
  orderBy?: "mean" | "total" | "calls";
}

const ENABLE = [
  "pg_stat_statements is a server library: it must be in shared_preload_libraries (RDS: the parameter group, where it is by default; elsewhere postgresql.conf, then a restart),",
  "and then created in this database: CREATE EXTENSION pg_stat_statements (RDS lets the master user do it).",
].join(" ");

/**
 * The spec's "Check slow queries" from `pg_stat_statements`: calls, mean, max and total time
 * and rows per statement, in this database. PostgreSQL 13 (pg_stat_statements 1.8) renamed
 * `total_time`/`mean_time`/`max_time` to `total_exec_time`/…; the columns present are read
 * from the catalog, so both work. Needs the extension (throws InspectUnavailableError saying how
 * to get it); without pg_read_all_stats (pg_monitor) other roles' statements read
 * `<insufficient privilege>`, which the notes say.
 *
 * ```ts
 * const { rows } = await slowQueries(db, { orderBy: "total", limit: 10 });
 * ```
 */
export async function slowQueries(db: Queryable, options: SlowQueryOptions = {}): Promise<Report<SlowQueryRow>> {
  const [ext] = await queryRows(
    db,
    sql`SELECT c.oid::regclass::text AS relation,
        EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'total_exec_time' AND NOT a.attisdropped) AS renamed
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = 'pg_stat_statements' AND c.relkind = 'v'
      ORDER BY n.nspname = ANY (current_schemas(false)) DESC
      LIMIT 1`,
  );
  if (!ext) {
    throw new InspectUnavailableError(
      "pg_stat_statements",
      `slow-queries needs the pg_stat_statements extension, which is not installed in this database. ${ENABLE}`,
    );
  }
  const prefix = ext.renamed ? "_exec_time" : "_time";
  const column = (name: "total" | "mean" | "max") => sql.identifier(`${name}${prefix}`);
  const order = { mean: column("mean"), total: column("total"), calls: sql.identifier("calls") }[
    options.orderBy ?? "mean"
  ];
  const relation = sql.raw(str(ext.relation)); // regclass::text: already quoted as needed
  let rows;
  try {
    rows = await queryRows(
      db,
      sql`SELECT s.query, r.rolname AS role, s.calls, s.${column("mean")} AS mean_ms, s.${column("max")} AS max_ms,
          s.${column("total")} AS total_ms, s.rows,
          s.shared_blks_hit::float8 / nullif(s.shared_blks_hit + s.shared_blks_read, 0) AS cache_hit_ratio
        FROM ${relation} s LEFT JOIN pg_roles r ON r.oid = s.userid
        WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY s.${order} DESC NULLS LAST
        LIMIT ${limitOf(options)}`,
    );
  } catch (error) {
    const state = sqlState(error);
    if (state === NOT_IN_PREREQUISITE_STATE) {
      throw new InspectUnavailableError(
        "pg_stat_statements",
        `slow-queries: the pg_stat_statements extension exists here but its library is not loaded. ${ENABLE}`,
      );
    }
    if (state === INSUFFICIENT_PRIVILEGE) {
      throw new InspectUnavailableError(
        "pg_read_all_stats",
        "slow-queries: this role may not read pg_stat_statements: GRANT pg_monitor (or pg_read_all_stats) TO it.",
      );
    }
    throw error;
  }
  const notes = [
    `pg_stat_statements ${ext.renamed ? "1.8+ (total_exec_time)" : "before 1.8 (total_time)"}; times in milliseconds, since pg_stat_statements_reset()`,
  ];
  if (!(await readAccess(db)).readAllStats) {
    notes.push(
      "statements of other roles read <insufficient privilege>: GRANT pg_monitor (or pg_read_all_stats) TO this role to see them",
    );
  }
  return {
    rows: rows.map((r) => ({
      query: str(r.query),
      role: strOrNull(r.role),
      calls: num(r.calls),
      meanMs: num(r.mean_ms),
      maxMs: num(r.max_ms),
      totalMs: num(r.total_ms),
      rows: num(r.rows),
      cacheHitRatio: r.cache_hit_ratio === null ? null : num(r.cache_hit_ratio),
    })),
    notes,
  };
}
