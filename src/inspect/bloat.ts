import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { num, queryRows, str } from "../db/query.js";
import { limitOf, type ListOptions, type Report } from "./report.js";
import { CURRENT_USER_SETTING } from "../db/constants.js";

export interface BloatRow {
  kind: "table" | "index";
  schema: string;
  table: string;
  /** The table, or the index's name. */
  object: string;
  /** Pages on disk over the pages the rows need: 1.0 is tight, 2.0 is twice the size it needs. */
  bloatRatio: number;
  /** Bytes beyond what the rows need: roughly what VACUUM FULL or REINDEX would give back. */
  wastedBytes: number;
}

/** Pages read per table to estimate its rows' width. */
const SAMPLE_PAGES = 200;
/** A value bigger than this is moved to TOAST and leaves an 18-byte pointer in the row (TOAST_TUPLE_THRESHOLD is about 2 kB). */
const TOAST_THRESHOLD = 2000;
const TOAST_POINTER = 18;
const TUPLE_HEADER = 24;
const INDEX_TUPLE_HEADER = 8;
const LINE_POINTER = 4;
const PAGE_HEADER = 24;
/** B-tree's default fillfactor. */
const BTREE_FILL = 0.9;

interface TableInfo {
  oid: number;
  schema: string;
  table: string;
  pages: number;
  tuples: number;
  forced: boolean;
  columns: Array<{ attnum: number; name: string }>;
  indexes: Array<{ name: string; pages: number; tuples: number; attnums: number[] }>;
}

/**
 * Estimated bloat of tables and their B-tree indexes, most wasted space first: pages on disk
 * against the pages the rows would need, from the planner's row counts and the average width of
 * a sample of rows (`TABLESAMPLE SYSTEM`, about 200 pages per table). The usual estimate reads
 * `pg_stats` instead, but PostgreSQL hides the statistics of a table whose row-level security
 * applies to the reader, which is every platform table for its owner; so the platform tables
 * are sampled as admin_role (in a read-only transaction), the others as the connected role.
 * No extension and no superuser. HNSW and GIN indexes are not estimated (their pages hold graphs
 * and posting lists). Tables never analyzed are left out (their row count is unknown).
 *
 * ```ts
 * const worst = (await bloat(db, { limit: 5 })).rows;
 * ```
 */
export async function bloat(db: Database, options?: ListOptions): Promise<Report<BloatRow>> {
  const limit = limitOf(options);
  const [setting] = await queryRows(db, sql`SELECT current_setting('block_size')::int AS bs`);
  const blockSize = num(setting!.bs);
  const tables = await tableInfo(db);
  const skipped: string[] = [];
  const rows: BloatRow[] = [];
  await db.transaction(
    async (tx) => {
      await tx.execute(sql`SELECT set_config(${CURRENT_USER_SETTING}, '', true)`);
      for (const t of tables) {
        if (t.columns.length === 0) continue;
        const widths = await tx
          .transaction(async (sp) => {
            await sp.execute(sql.raw(t.forced ? "SET LOCAL ROLE admin_role" : "SET LOCAL ROLE NONE"));
            const percent = Math.min(100, (100 * SAMPLE_PAGES) / Math.max(t.pages, 1));
            const averages = sql.join(
              t.columns.map(
                (c) =>
                  sql`avg(CASE WHEN pg_column_size(${sql.identifier(c.name)}) > ${TOAST_THRESHOLD} THEN ${TOAST_POINTER} ELSE pg_column_size(${sql.identifier(c.name)}) END)::float8 AS ${sql.identifier(`w${c.attnum}`)}`,
              ),
              sql`, `,
            );
            const [row] = await queryRows(
              sp,
              sql`SELECT count(*) AS n, ${averages} FROM ${sql.identifier(t.schema)}.${sql.identifier(t.table)} TABLESAMPLE SYSTEM (${sql.raw(percent.toFixed(4))})`,
            );
            return row;
          })
          .catch(() => undefined);
        if (!widths) {
          skipped.push(`${t.schema}.${t.table}`);
          continue;
        }
        if (num(widths.n) === 0) continue;
        const width = (attnum: number) => num(widths[`w${attnum}`] ?? 0);
        const align = (n: number) => Math.ceil(n / 8) * 8;
        const rowBytes = align(TUPLE_HEADER + t.columns.reduce((sum, c) => sum + width(c.attnum), 0)) + LINE_POINTER;
        const needed = Math.max(1, Math.ceil((t.tuples * rowBytes) / (blockSize - PAGE_HEADER)));
        rows.push(estimate("table", t, t.table, t.pages, needed, blockSize));
        for (const index of t.indexes) {
          const keyBytes =
            align(INDEX_TUPLE_HEADER + index.attnums.reduce((sum, a) => sum + width(a), 0)) + LINE_POINTER;
          // + 1: the metapage.
          const indexNeeded =
            1 + Math.max(1, Math.ceil((index.tuples * keyBytes) / ((blockSize - PAGE_HEADER) * BTREE_FILL)));
          rows.push(estimate("index", t, index.name, index.pages, indexNeeded, blockSize));
        }
      }
    },
    { accessMode: "read only" },
  );
  rows.sort((a, b) => b.wastedBytes - a.wastedBytes || b.bloatRatio - a.bloatRatio || a.object.localeCompare(b.object));
  const notes = [
    "an estimate (planner row counts x sampled row widths), not a page scan; HNSW and GIN indexes are not estimated",
  ];
  if (skipped.length) notes.push(`not readable by this role, left out: ${skipped.join(", ")}`);
  const [unanalyzed] = await queryRows(
    db,
    sql`SELECT count(*)::int AS n FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.reltuples < 0`,
  );
  if (num(unanalyzed!.n) > 0)
    notes.push(`${unanalyzed!.n} table(s) never analyzed are left out: run sensa-db maintain (VACUUM ANALYZE) first`);
  return { rows: rows.slice(0, limit), notes };
}

function estimate(
  kind: BloatRow["kind"],
  t: TableInfo,
  object: string,
  pages: number,
  needed: number,
  blockSize: number,
): BloatRow {
  return {
    kind,
    schema: t.schema,
    table: t.table,
    object,
    bloatRatio: Math.round((pages / needed) * 10) / 10,
    wastedBytes: Math.max(0, pages - needed) * blockSize,
  };
}

async function tableInfo(db: Database): Promise<TableInfo[]> {
  const tables = await queryRows(
    db,
    sql`SELECT c.oid, s.schemaname AS schema, s.relname AS table, c.relpages AS pages, c.reltuples AS tuples,
        c.relrowsecurity AND c.relforcerowsecurity AS forced,
        (SELECT coalesce(json_agg(json_build_object('attnum', a.attnum, 'name', a.attname) ORDER BY a.attnum), '[]'::json)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
        (SELECT coalesce(json_agg(json_build_object('name', ic.relname, 'pages', ic.relpages, 'tuples', ic.reltuples, 'attnums', x.indkey::int2[]) ORDER BY ic.relname), '[]'::json)
          FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_am am ON am.oid = ic.relam
          WHERE x.indrelid = c.oid AND am.amname = 'btree' AND x.indexprs IS NULL) AS indexes
      FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE c.reltuples >= 0
      ORDER BY c.relpages DESC`,
  );
  const parse = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;
  return tables.map((r) => ({
    oid: num(r.oid),
    schema: str(r.schema),
    table: str(r.table),
    pages: num(r.pages),
    tuples: num(r.tuples),
    forced: Boolean(r.forced),
    columns: parse<TableInfo["columns"]>(r.columns),
    indexes: parse<Array<{ name: string; pages: number; tuples: number; attnums: number[] }>>(r.indexes).map((i) => ({
      name: i.name,
      pages: num(i.pages),
      tuples: Math.max(0, num(i.tuples)),
      attnums: i.attnums.map(Number),
    })),
  }));
}
