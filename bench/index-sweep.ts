import pg from "pg";
import { round } from "./timing.js";

/**
 * The HNSW build under other settings, beside the seed's own build of the same index on the same
 * run: issue 15 asks that the seed's rebuild take at most 1.2x the best setting measured. Each
 * setting is `maintenance_work_mem/max_parallel_maintenance_workers` (`2GB/2`); each rebuild is
 * one DROP and CREATE of the index, exactly as the catalog defines it, in a transaction of its own.
 */
export const DEFAULT_SWEEP = ["1GB/2", "2GB/2", "4GB/2"];

export interface IndexSweep {
  index: string;
  /** Seconds per 100,000 embeddings, per setting. */
  s_per_100k: Record<string, number>;
  best_setting: string;
  /** The seed's own build, in seconds per 100,000 embeddings, and its ratio to the best setting. */
  seed_s_per_100k: number;
  seed_vs_best: number;
}

/** One timed rebuild of `index` under `setting`, as the catalog defines it or as `definition` says. */
export async function rebuild(client: pg.Client, index: string, setting: string, definition?: string): Promise<number> {
  const [mem, workers] = setting.split("/");
  if (!/^\d+[MG]B$/.test(mem ?? "") || !/^\d+$/.test(workers ?? ""))
    throw new Error(`an index build setting is <memory>/<workers>, as 2GB/2: ${setting}`);
  const { rows } = await client.query<{ def: string }>("SELECT pg_get_indexdef($1::regclass) AS def", [index]);
  await client.query("BEGIN");
  try {
    await client.query(`SET LOCAL maintenance_work_mem = '${mem}'`);
    await client.query(`SET LOCAL max_parallel_maintenance_workers = ${Number(workers)}`);
    await client.query(`DROP INDEX ${index}`);
    const started = performance.now();
    await client.query(definition ?? rows[0]!.def);
    const seconds = (performance.now() - started) / 1000;
    await client.query("COMMIT");
    return seconds;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

/**
 * Rebuilds `index` (on `table`, whose `column` holds the embeddings) under each setting and
 * compares `seedSecondsPer100k`, the seed's own build of it, with the best of them.
 */
export async function indexSweep(
  config: pg.ClientConfig,
  target: { index: string; table: string; column: string },
  settings: readonly string[],
  seedSecondsPer100k: number,
  log: (s: string) => void = () => {},
): Promise<IndexSweep> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count("${target.column}")::int AS n FROM "${target.table}"`,
    );
    const per100k = 100_000 / rows[0]!.n;
    const sweep: Record<string, number> = {};
    for (const setting of settings) {
      log(`index sweep: ${target.index} at ${setting}`);
      sweep[setting] = round((await rebuild(client, target.index, setting)) * per100k, 1);
    }
    const [bestSetting, best] = Object.entries(sweep).sort((a, b) => a[1] - b[1])[0]!;
    return {
      index: target.index,
      s_per_100k: sweep,
      best_setting: bestSetting,
      seed_s_per_100k: round(seedSecondsPer100k, 1),
      seed_vs_best: round(seedSecondsPer100k / best, 2),
    };
  } finally {
    await client.end();
  }
}
