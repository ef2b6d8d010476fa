import { sql } from "drizzle-orm";
import type { Queryable } from "../context.js";
import { num, queryRows, str } from "../functions/rows.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface BloatRow {
  kind: "table" | "index";
  schema: string;
  table: string;
  /** The table, or the index's name. */
  object: string;
  /** Pages on disk over the pages the rows need: 1.0 is tight, 2.0 is twice the size it needs. */
  bloatRatio: number;
  /** Bytes beyond what the rows need: what VACUUM FULL or REINDEX would give back, roughly. */
  wastedBytes: number;
}

/**
 * Estimated bloat of tables and B-tree indexes, most wasted space first: the well-known
 * estimate from column statistics (Heroku's pg-extras and Supabase use the same), so tables must
 * have been analyzed, and it is rough (it is an estimate, not a page scan, so it needs no
 * extension and no privilege beyond reading the tables' pg_stats, which their owner has). HNSW
 * and GIN indexes are not estimated: their pages hold graphs and posting lists the formula does
 * not model.
 *
 * ```ts
 * const worst = (await bloat(db, { limit: 5 })).rows;
 * ```
 */
export async function bloat(db: Queryable, options?: ListOptions): Promise<Report<BloatRow>> {
  const rows = await queryRows(
    db,
    sql`WITH constants AS (SELECT current_setting('block_size')::numeric AS bs, 23 AS hdr, 8 AS ma),
      widths AS (
        SELECT s.schemaname, s.tablename, hdr, ma, bs,
          sum((1 - s.null_frac) * s.avg_width) AS datawidth,
          max(s.null_frac) AS maxfracsum,
          hdr + (SELECT 1 + count(*) / 8 FROM pg_stats s2 WHERE s2.null_frac <> 0 AND s2.schemaname = s.schemaname AND s2.tablename = s.tablename) AS nullhdr
        FROM pg_stats s, constants
        WHERE s.schemaname NOT IN ('pg_catalog', 'information_schema')
        GROUP BY 1, 2, 3, 4, 5),
      info AS (
        SELECT schemaname, tablename, ma, bs,
          (datawidth + (hdr + ma - CASE WHEN hdr % ma = 0 THEN ma ELSE hdr % ma END))::numeric AS datahdr,
          maxfracsum * (nullhdr + ma - CASE WHEN nullhdr % ma = 0 THEN ma ELSE nullhdr % ma END) AS nullhdr2
        FROM widths),
      tables AS (
        SELECT i.schemaname, i.tablename, c.oid, c.relpages, i.bs, i.datahdr,
          ceil(c.reltuples * ((i.datahdr + i.ma - CASE WHEN i.datahdr % i.ma = 0 THEN i.ma ELSE i.datahdr % i.ma END) + i.nullhdr2 + 4) / (i.bs - 20::float8)) AS otta
        FROM info i
          JOIN pg_namespace n ON n.nspname = i.schemaname
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = i.tablename AND c.relkind = 'r')
      SELECT 'table' AS kind, schemaname AS schema, tablename AS table, tablename AS object,
          CASE WHEN otta = 0 THEN 1.0 ELSE relpages / otta END AS ratio,
          CASE WHEN relpages <= otta THEN 0 ELSE bs * (relpages - otta) END AS wasted
        FROM tables
      UNION ALL
      SELECT 'index', t.schemaname, t.tablename, ic.relname,
          CASE WHEN ic.relpages = 0 OR iotta = 0 THEN 1.0 ELSE ic.relpages / iotta END,
          CASE WHEN ic.relpages <= iotta THEN 0 ELSE t.bs * (ic.relpages - iotta) END
        FROM tables t
          JOIN pg_index x ON x.indrelid = t.oid
          JOIN pg_class ic ON ic.oid = x.indexrelid
          JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
          -- Key width from the indexed columns' statistics; 8-byte tuple header + 4-byte line pointer
          -- per entry, pages 90% full (B-tree's default fillfactor).
          CROSS JOIN LATERAL (
            SELECT sum(st.avg_width) AS width
            FROM unnest(x.indkey::int2[]) AS k(attnum)
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
              JOIN pg_stats st ON st.schemaname = t.schemaname AND st.tablename = t.tablename AND st.attname = a.attname) w
          CROSS JOIN LATERAL (SELECT ceil(greatest(ic.reltuples, 0) * (12 + ceil(w.width / 8.0) * 8) / ((t.bs - 24) * 0.9)) AS iotta) e
        WHERE w.width IS NOT NULL
      ORDER BY wasted DESC, ratio DESC, object
      LIMIT ${limitOf(options)}`,
  );
  const [unanalyzed] = await queryRows(
    db,
    sql`SELECT count(*)::int AS n FROM pg_stat_user_tables WHERE last_analyze IS NULL AND last_autoanalyze IS NULL`,
  );
  const notes = ["an estimate from column statistics (pg_stats), not a page scan; HNSW and GIN indexes are not estimated"];
  if (num(unanalyzed!.n) > 0) notes.push(`${unanalyzed!.n} table(s) never analyzed are left out or estimated from stale statistics: run ANALYZE (or sensa-db maintain) first`);
  return {
    rows: rows.map((r) => ({
      kind: str(r.kind) as BloatRow["kind"],
      schema: str(r.schema),
      table: str(r.table),
      object: str(r.object),
      bloatRatio: Math.round(num(r.ratio) * 10) / 10,
      wastedBytes: Math.round(num(r.wasted)),
    })),
    notes,
  };
}
