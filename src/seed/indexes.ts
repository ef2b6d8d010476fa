import type { SeedSession } from "./session.js";

/** An HNSW index as the catalog defines it, so it can be rebuilt exactly. */
export interface VectorIndex {
  name: string;
  table: string;
  /** The indexed column (an HNSW index has one). */
  column: string;
  definition: string;
}

/**
 * Memory and parallelism for building the HNSW graphs after a load, chosen from a sweep on this
 * project's machine (2 cores, PostgreSQL 15, pgvector 0.8.0; `npx tsx bench/seed.ts`) over
 * 100k x 768 embeddings: the server's default 64MB serial took ~280 s, 1GB serial 60-73 s, 1GB
 * with 2 workers ~40 s. The graph must fit in maintenance_work_mem or the build falls back to
 * inserting on disk, several times slower; with workers pgvector reserves it as shared memory up
 * front, so it is not raised further for a few seconds more.
 */
export const INDEX_BUILD_SETTINGS = { server: { maintenanceWorkMem: "1GB", parallelWorkers: 2 }, embedded: { maintenanceWorkMem: "512MB", parallelWorkers: 0 } } as const;
export type IndexBuildSettings = { maintenanceWorkMem: string; parallelWorkers: number };

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The HNSW indexes of the public schema. */
export async function vectorIndexes(s: SeedSession): Promise<VectorIndex[]> {
  const rows = await s.run(`
    SELECT c.relname AS name, t.relname AS table, a.attname AS column, pg_get_indexdef(c.oid) AS definition
    FROM pg_index x
    JOIN pg_class c ON c.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_am am ON am.oid = c.relam
    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
    WHERE am.amname = 'hnsw' AND t.relnamespace = 'public'::regnamespace
    ORDER BY c.relname`);
  return rows.map((r) => ({ name: String(r.name), table: String(r.table), column: String(r.column), definition: String(r.definition) }));
}

/**
 * Drops them inside the seed's transaction: building an HNSW graph once over all rows is several
 * times faster than inserting into it row by row, and if the seed never commits (a kill, a lost
 * connection, an error) the DROP is rolled back with it, so the indexes are never missing. The
 * DROP locks the tables (ACCESS EXCLUSIVE) until the seed ends.
 */
export async function dropVectorIndexes(s: SeedSession, indexes: readonly VectorIndex[]): Promise<void> {
  for (const i of indexes) await s.run(`DROP INDEX ${quote(i.name)}`);
}

/**
 * How many rows each index will hold. Counted while row-level security is lifted (or acting as
 * admin_role): the owner under FORCE would see none of the rows.
 */
export async function embeddingCounts(s: SeedSession, indexes: readonly VectorIndex[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const i of indexes) {
    const [row] = await s.run(`SELECT count(${quote(i.column)})::int AS n FROM ${quote(i.table)}`);
    counts.set(i.name, Number(row?.n ?? 0));
  }
  return counts;
}

/**
 * Rebuilds them exactly as defined, with `settings` for this transaction only. Returns each
 * index's build seconds and how many embeddings it holds (from `counts`).
 */
export async function rebuildVectorIndexes(
  s: SeedSession,
  indexes: readonly VectorIndex[],
  settings: IndexBuildSettings,
  counts: ReadonlyMap<string, number>,
): Promise<Array<{ name: string; seconds: number; embeddings: number }>> {
  if (!indexes.length) return [];
  await s.run(`SET LOCAL maintenance_work_mem = '${settings.maintenanceWorkMem.replace(/'/g, "")}'`);
  await s.run(`SET LOCAL max_parallel_maintenance_workers = ${Math.trunc(settings.parallelWorkers)}`);
  const built = [];
  for (const i of indexes) {
    const started = performance.now();
    await s.run(i.definition);
    built.push({ name: i.name, seconds: (performance.now() - started) / 1000, embeddings: counts.get(i.name) ?? 0 });
  }
  return built;
}
