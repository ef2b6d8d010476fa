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
 * Memory and parallelism for building the HNSW graphs after a load. The graph must fit in
 * maintenance_work_mem, or pgvector goes on inserting on disk, several times slower (issue 15:
 * 100k x 768 took ~280 s at the server's default 64MB, 60-73 s at 1GB serial, ~40 s at 1GB with
 * 2 workers, 36.5 s at 2GB). A 768-dim element takes ~3.9 KB (16MB held 4,350 elements before
 * pgvector's "no longer fits" notice), 100k ~390 MB. With workers pgvector reserves all of
 * maintenance_work_mem as shared memory up front, so it is sized to the graph, not set to the
 * most the server has: the next power of two at or above `headroom` x the graph (100k: 1GB;
 * 300k: 2GB), between `minMB` and `maxMB`. The quiet bench run of 2026-11-30 (latest.json,
 * seed.index_sweep; m 24, ef_construction 128) rebuilt the 100k document index in 89.8 s at 1GB/2
 * workers, 82.9 s at 2GB/2 and 91.6 s at 4GB/2: the seed's own 1GB/2 build was 1.07x the best, so
 * more memory buys little once the graph fits. PGlite's WebAssembly heap is smaller, and it has no
 * parallel workers.
 */
export const INDEX_BUILD_SETTINGS = {
  server: { parallelWorkers: 2, minMB: 64, maxMB: 4096 },
  embedded: { parallelWorkers: 0, minMB: 64, maxMB: 512 },
  bytesPerDimension: 4,
  bytesPerElement: 800,
  headroom: 1.5,
} as const;

/** What a rebuild ran with: the largest maintenance_work_mem it set, and the parallel workers allowed. */
export type IndexBuildSettings = { maintenanceWorkMem: string; parallelWorkers: number };

/** maintenance_work_mem, in MB, for a graph of `embeddings` vectors of `dimensions`. */
export function graphMemoryMB(embeddings: number, dimensions: number, target: "server" | "embedded"): number {
  const { minMB, maxMB } = INDEX_BUILD_SETTINGS[target];
  const { bytesPerDimension, bytesPerElement, headroom } = INDEX_BUILD_SETTINGS;
  // + 3MB: what pgvector keeps back from the parallel build's shared area for other things.
  const mb = (embeddings * (dimensions * bytesPerDimension + bytesPerElement) * headroom) / 2 ** 20 + 3;
  return Math.min(maxMB, Math.max(minMB, 2 ** Math.ceil(Math.log2(mb))));
}

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
  return rows.map((r) => ({
    name: String(r.name),
    table: String(r.table),
    column: String(r.column),
    definition: String(r.definition),
  }));
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
export async function embeddingCounts(
  s: SeedSession,
  indexes: readonly VectorIndex[],
): Promise<Map<string, { embeddings: number; dimensions: number }>> {
  const counts = new Map<string, { embeddings: number; dimensions: number }>();
  for (const i of indexes) {
    const [row] = await s.run(
      `SELECT count(${quote(i.column)})::int AS n, (SELECT atttypmod FROM pg_attribute WHERE attrelid = '${quote(i.table)}'::regclass AND attname = '${i.column.replace(/'/g, "''")}') AS dims FROM ${quote(i.table)}`,
    );
    counts.set(i.name, { embeddings: Number(row?.n ?? 0), dimensions: Math.max(0, Number(row?.dims ?? 0)) });
  }
  return counts;
}

/**
 * Rebuilds them exactly as defined, each with memory for its graph (graphMemoryMB) and the
 * target's parallel workers, for this transaction only. Returns each index's build seconds, the
 * embeddings it holds (from `counts`), and the settings used.
 */
export async function rebuildVectorIndexes(
  s: SeedSession,
  indexes: readonly VectorIndex[],
  target: "server" | "embedded",
  counts: ReadonlyMap<string, { embeddings: number; dimensions: number }>,
): Promise<{
  built: Array<{ name: string; seconds: number; embeddings: number; maintenanceWorkMem: string }>;
  settings: IndexBuildSettings;
}> {
  const parallelWorkers = INDEX_BUILD_SETTINGS[target].parallelWorkers;
  const built = [];
  let largest = 0;
  if (indexes.length) await s.run(`SET LOCAL max_parallel_maintenance_workers = ${parallelWorkers}`);
  for (const i of indexes) {
    const { embeddings, dimensions } = counts.get(i.name) ?? { embeddings: 0, dimensions: 0 };
    const mb = graphMemoryMB(embeddings, dimensions, target);
    largest = Math.max(largest, mb);
    await s.run(`SET LOCAL maintenance_work_mem = '${mb}MB'`);
    const started = performance.now();
    await s.run(i.definition);
    built.push({
      name: i.name,
      seconds: (performance.now() - started) / 1000,
      embeddings,
      maintenanceWorkMem: `${mb}MB`,
    });
  }
  return { built, settings: { maintenanceWorkMem: `${largest}MB`, parallelWorkers } };
}
