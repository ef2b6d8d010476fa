import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { dateOrNull, num, queryRows, str } from "../db/query.js";
import { declaredIndexes } from "./platform.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface IndexUsageRow {
  schema: string;
  table: string;
  index: string;
  /** Index scans since the statistics were last reset. */
  scans: number;
  tuplesRead: number;
  tuplesFetched: number;
  bytes: number;
  /** Sequential scans of the index's table over the same period, for comparison. */
  tableSeqScans: number;
}

export interface UnusedIndexRow {
  schema: string;
  table: string;
  index: string;
  bytes: number;
  definition: string;
  /** Declared in src/schema (e.g. an HNSW or trigram index the search functions use): dropping it takes a migration. */
  declaredInSchema: boolean;
}

/**
 * The spec's "Check index usage": every index with its scans, least used first. Needs no
 * privilege beyond connecting.
 *
 * ```ts
 * const { rows } = await indexUsage(db);
 * ```
 */
export async function indexUsage(db: Queryable, options?: ListOptions): Promise<Report<IndexUsageRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index, s.idx_scan AS scans,
        s.idx_tup_read AS tuples_read, s.idx_tup_fetch AS tuples_fetched, pg_relation_size(s.indexrelid) AS bytes,
        coalesce(t.seq_scan, 0) AS table_seq_scans
      FROM pg_stat_user_indexes s LEFT JOIN pg_stat_user_tables t ON t.relid = s.relid
      ORDER BY s.idx_scan ASC, pg_relation_size(s.indexrelid) DESC, s.indexrelname
      LIMIT ${limitOf(options)}`,
  );
  return {
    rows: rows.map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      index: str(r.index),
      scans: num(r.scans),
      tuplesRead: num(r.tuples_read),
      tuplesFetched: num(r.tuples_fetched),
      bytes: num(r.bytes),
      tableSeqScans: num(r.table_seq_scans),
    })),
    notes: [await statsSinceNote(db)],
  };
}

/**
 * Indexes never scanned since the statistics were reset, largest first: candidates to drop.
 * Unique and primary-key indexes are left out (they enforce a constraint even when never read).
 * Counts are per server: an index used only by queries on a read replica shows 0 here.
 *
 * ```ts
 * const { rows } = await unusedIndexes(db);
 * ```
 */
export async function unusedIndexes(db: Queryable, options?: ListOptions): Promise<Report<UnusedIndexRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT s.schemaname AS schema, s.relname AS table, s.indexrelname AS index, pg_relation_size(s.indexrelid) AS bytes,
        pg_get_indexdef(s.indexrelid) AS definition
      FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
      WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
      ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
      LIMIT ${limitOf(options)}`,
  );
  const declared = new Set(declaredIndexes().map((i) => i.name));
  return {
    rows: rows.map((r) => ({
      schema: str(r.schema),
      table: str(r.table),
      index: str(r.index),
      bytes: num(r.bytes),
      definition: str(r.definition),
      declaredInSchema: str(r.schema) === "public" && declared.has(str(r.index)),
    })),
    notes: [
      await statsSinceNote(db),
      "scans on read replicas are not counted here: check a replica before dropping an index",
      "an index declared in src/schema (the HNSW and trigram ones serve the search functions) is dropped by a migration, not by hand",
    ],
  };
}

async function statsSinceNote(db: Queryable): Promise<string> {
  const [row] = await queryRows(db, sql`SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()`);
  const since = dateOrNull(row?.stats_reset);
  return since
    ? `counts since the statistics were reset at ${since.toISOString()}`
    : "counts since the statistics were last reset (or the server started)";
}
