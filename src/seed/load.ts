import { sql, type SQL } from "drizzle-orm";
import { getTableConfig, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import { isEmbedded, type Database } from "../connection.js";
import { withAdmin } from "../context.js";
import { queryRows } from "../functions/rows.js";
import * as schema from "../schema/index.js";
import type { UserBatch } from "./generate.js";

/** Parents before children: the order the foreign keys and the owner-copying triggers need. */
export const LOAD_ORDER: Array<[keyof UserBatch, PgTable]> = [
  ["users", schema.users],
  ["user_profiles", schema.userProfiles],
  ["courses", schema.courses],
  ["course_documents", schema.courseDocuments],
  ["processed_documents", schema.processedDocuments],
  ["chapters", schema.chapters],
  ["keywords", schema.keywords],
  ["relationships", schema.relationships],
  ["user_annotations", schema.userAnnotations],
  ["user_progress", schema.userProgress],
];

/** Rows per INSERT: ~12 MB of embeddings at most per statement. */
const ROWS_PER_INSERT = 2000;

/** Inserts a group of batches in one admin transaction, table by table. */
export async function insertBatches(db: Database, batches: UserBatch[]): Promise<void> {
  await withAdmin(db, async (tx) => {
    for (const [name, table] of LOAD_ORDER) {
      // Each list holds the insert type of its own table; LOAD_ORDER pairs them.
      const rows = batches.flatMap((b) => b[name] as Array<Record<string, unknown>>);
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await tx.execute(unnestInsert(table, rows.slice(i, i + ROWS_PER_INSERT)));
      }
    }
  });
}

/**
 * `INSERT INTO t (a, b) SELECT u.a::type, u.b::type FROM unnest($1::text[], $2::text[]) AS u(a, b)`:
 * one parameter per column instead of one per value. Binding a multi-row VALUES list cost the
 * client more than the server's work per row. Every column travels as a text array literal
 * built here (PGlite cannot bind arrays of enums or vectors, node-postgres can; this way both
 * take the same path) and is cast back per row. Columns, types and value mapping come from the
 * Drizzle table definition.
 */
function unnestInsert(table: PgTable, rows: Array<Record<string, unknown>>): SQL {
  const config = getTableConfig(table);
  const columns = Object.keys(rows[0] ?? {}).map((key, i) => {
    const column = (table as unknown as Record<string, PgColumn>)[key]!;
    const type = column.columnType === "PgEnumColumn" ? `"${column.getSQLType()}"` : column.getSQLType();
    const values = rows.map((r) => {
      const v = r[key];
      if (v == null) return null;
      return Array.isArray(v) && !type.startsWith("vector") ? arrayLiteral(v) : String(column.mapToDriverValue(v));
    });
    return { name: column.name, alias: `c${i}`, type, literal: arrayLiteral(values) };
  });
  const names = sql.join(columns.map((c) => sql.identifier(c.name)), sql`, `);
  const selected = sql.raw(columns.map((c) => `${c.alias}::${c.type}`).join(", "));
  const arrays = sql.join(columns.map((c) => sql`${c.literal}::text[]`), sql`, `);
  const aliases = sql.raw(columns.map((c) => c.alias).join(", "));
  return sql`INSERT INTO ${sql.identifier(config.name)} (${names}) SELECT ${selected} FROM unnest(${arrays}) AS u(${aliases})`;
}

/** PostgreSQL's text form of a one-dimensional array; null stays NULL. */
function arrayLiteral(items: unknown[]): string {
  return `{${items.map((x) => (x === null ? "NULL" : `"${escapeElement(String(x))}"`)).join(",")}}`;
}

// Most values (every embedding) have nothing to escape; the check is much cheaper than the regex.
const escapeElement = (s: string) => (s.includes('"') || s.includes("\\") ? s.replace(/(["\\])/g, "\\$1") : s);

/**
 * Drops the HNSW indexes and returns how to rebuild them. Building an HNSW graph once over all
 * rows is several times faster than inserting row by row into it.
 */
export async function dropVectorIndexes(db: Database): Promise<string[]> {
  const indexes = await queryRows(db, sql`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%USING hnsw%'`);
  for (const i of indexes) await db.execute(sql.raw(`DROP INDEX IF EXISTS "${String(i.indexname)}"`));
  return indexes.map((i) => String(i.indexdef));
}

/** Rebuilds the indexes exactly as they were defined, with memory for a fast build. */
export async function rebuildVectorIndexes(db: Database, definitions: string[]): Promise<void> {
  await db.transaction(async (tx) => {
    // The whole graph in memory makes the build fast; PGlite's WebAssembly heap is smaller.
    await tx.execute(sql.raw(`SET LOCAL maintenance_work_mem = '${isEmbedded(db) ? "512MB" : "2GB"}'`));
    for (const definition of definitions) await tx.execute(sql.raw(definition));
  });
}
