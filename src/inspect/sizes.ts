import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { num, queryRows, str } from "../db/query.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface TableSizeRow {
  schema: string;
  table: string;
  /** Everything: heap, TOAST and indexes (`pg_total_relation_size`). */
  totalBytes: number;
  /** The heap with its free-space and visibility maps, without TOAST. */
  tableBytes: number;
  /** Out-of-line values: here mostly the 768-dimension embeddings (3 KB each). */
  toastBytes: number;
  indexBytes: number;
  /** The planner's estimate (`reltuples`); null until the table is first vacuumed or analyzed. */
  estimatedRows: number | null;
}

/**
 * The spec's "Check table sizes", split into heap, TOAST and indexes, largest first. Needs no
 * privilege beyond connecting.
 *
 * ```ts
 * const { rows } = await tableSizes(db, { limit: 10 });
 * ```
 */
export async function tableSizes(db: Queryable, options?: ListOptions): Promise<Report<TableSizeRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT n.nspname AS schema, c.relname AS table,
        pg_total_relation_size(c.oid) AS total_bytes,
        pg_table_size(c.oid) - coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS table_bytes,
        coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast_bytes,
        pg_indexes_size(c.oid) AS index_bytes,
        CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS estimated_rows
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY pg_total_relation_size(c.oid) DESC, c.relname
      LIMIT ${limitOf(options)}`,
  );
  return {
    rows: rows.map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      totalBytes: num(r.total_bytes),
      tableBytes: num(r.table_bytes),
      toastBytes: num(r.toast_bytes),
      indexBytes: num(r.index_bytes),
      estimatedRows: r.estimated_rows === null ? null : num(r.estimated_rows),
    })),
    notes: [],
  };
}
