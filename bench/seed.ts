/**
 * npx tsx bench/seed.ts --url <superuser url> [--scale 10k|100k|300k] [--sweep 64MB/0,1GB/0,1GB/2,2GB/2]
 *
 * Seeds a fresh `sensa_bench_seed` database with the benchmark's data set (benchSeedOptions) and
 * prints the load's rows/s per table and end to end (the restore of the indexes, foreign keys
 * and triggers a bulk load suspends included, and printed apart), and the HNSW rebuild's seconds per 100k
 * embeddings with the seed's settings. With --sweep it then rebuilds the 100k-row
 * processed_documents index under each maintenance_work_mem / max_parallel_maintenance_workers
 * pair (one build each: minutes at 64MB) and compares the seed's own build to the best of them.
 * bench/run.ts takes `seed.load_rows_per_second` and `seed.index_build_s_per_100k` from
 * `seedFigures(result)`.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { closeDb, connectionConfig, createDb, migrate, resolveTarget, withDatabase } from "../src/index.js";
import { seed, type SeedOptions, type SeedResult } from "../src/seed/index.js";
import { indexSweep } from "./index-sweep.js";
import { round } from "./timing.js";

/** The bench's seed: its data set's, and the vector suite's queries' (bench/vector.ts). */
export const BENCH_SEED = 2026;

/**
 * The benchmark's data set: 100 documents per user (5 courses x 20), one chapter and one keyword
 * per document. Chapter embeddings are skipped: no suite reads them, and they would add an HNSW
 * build. At 100k documents: 458,000 rows, 200,000 embeddings.
 */
export function benchSeedOptions(documents: number): SeedOptions {
  return {
    seed: BENCH_SEED,
    users: Math.max(1, documents / 100),
    coursesPerUser: 5,
    documentsPerCourse: 20,
    chaptersPerDocument: 1,
    keywordsPerChapter: 1,
    relationshipsPerChapter: 0,
    annotationsPerUser: 1,
    progress: 0.5,
    deferIndexes: true,
    embedChapters: false,
  };
}

/** The two figures issue 15 asks of the bench, and the detail behind them. */
export function seedFigures(r: SeedResult) {
  return {
    /** End to end: generating, encoding and sending every row, before the index build. */
    load_rows_per_second: Math.round(r.load.rowsPerSecond),
    /** Included in the load: recreating the secondary indexes and foreign keys, enabling the triggers, the ownership check. */
    load_restore_s: r.load.restore ? round(r.load.restore.seconds, 2) : null,
    index_build_s_per_100k: r.index ? round(r.index.secondsPer100k, 1) : null,
    loader: r.loader,
    index_settings: r.index?.settings ?? null,
    tables: Object.fromEntries(
      Object.entries(r.tables).map(([t, v]) => [t, { rows: v.rows, rows_per_second: Math.round(v.rowsPerSecond) }]),
    ),
  };
}

export function printSeed(r: SeedResult): void {
  const line = (name: string, rows: number, seconds: number) =>
    `  ${name.padEnd(22)} ${String(rows).padStart(9)} ${seconds.toFixed(2).padStart(9)} ${String(seconds ? Math.round(rows / seconds) : "-").padStart(10)}`;
  console.log(
    `  ${"table".padEnd(22)} ${"rows".padStart(9)} ${"seconds".padStart(9)} ${"rows/s".padStart(10)}   (${r.loader}: server time per table)`,
  );
  for (const [name, t] of Object.entries(r.tables)) console.log(line(name, t.rows, t.seconds));
  console.log(line("load, end to end", r.totalRows, r.load.seconds));
  const restore = r.load.restore;
  if (restore)
    console.log(
      `  of which the restore: ${restore.seconds.toFixed(2)} s (${restore.indexes} indexes ${restore.indexSeconds.toFixed(2)} s, ${restore.foreignKeys} foreign keys ${restore.foreignKeySeconds.toFixed(2)} s, ${restore.triggers} triggers, ownership check ${restore.checkSeconds.toFixed(2)} s)`,
    );
  if (r.index) {
    for (const i of r.index.indexes)
      console.log(
        `  ${i.name.padEnd(36)} ${String(i.embeddings).padStart(9)} embeddings ${i.seconds.toFixed(1).padStart(7)} s at ${i.maintenanceWorkMem}`,
      );
    console.log(
      `  HNSW rebuild: ${r.indexSeconds.toFixed(1)} s, ${r.index.secondsPer100k.toFixed(1)} s per 100k embeddings (${r.index.settings.parallelWorkers} parallel workers)`,
    );
  }
  console.log(`  total ${r.seconds.toFixed(1)} s with ANALYZE`);
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

/**
 * Follows the seed's backend while it runs COPY and returns the CPU seconds it had used by the
 * last sample of the load (utime + stime from /proc/<pid>/stat, 100 ticks a second), or null
 * when the server's processes are not visible from here.
 */
async function watchLoadCpu(target: ReturnType<typeof withDatabase>): Promise<{ stop: () => Promise<number | null> }> {
  const client = new pg.Client(connectionConfig(target, { applicationName: "sensa bench seed watch" }));
  await client.connect();
  let last: number | null = null;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'sensa bench seed' AND query LIKE 'COPY %' AND state = 'active'",
      );
      for (const { pid } of rows) {
        try {
          const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
          last = (Number(fields[11]) + Number(fields[12])) / 100;
        } catch {
          // not on this machine, or gone
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await client.end();
      return last;
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      scale: { type: "string", default: "100k" },
      sweep: { type: "string" },
      database: { type: "string", default: "sensa_bench_seed" },
    },
  });
  const documents = { "10k": 10_000, "100k": 100_000, "300k": 300_000 }[values.scale!];
  const adminUrl = values.url ?? process.env.BENCH_DATABASE_URL;
  if (!documents || !adminUrl)
    throw new Error("usage: bench/seed.ts --url <superuser url> [--scale 10k|100k|300k] [--sweep 64MB/0,1GB/2]");
  const adminTarget = resolveTarget({ url: adminUrl, env: process.env })!;
  const name = values.database!;
  const admin = new pg.Client(connectionConfig(adminTarget, { applicationName: "sensa bench seed" }));
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const target = withDatabase(adminTarget, name);
  const db = createDb({ target, applicationName: "sensa bench seed", pool: { max: 2 } });
  try {
    await migrate(db);
    console.error(`seeding ${documents} documents into ${name}`);
    const cpu = await watchLoadCpu(target);
    const clientStart = process.cpuUsage();
    let clientCpu = 0;
    const result = await seed(db, benchSeedOptions(documents), (done, total) => {
      process.stderr.write(`\r  ${done}/${total} rows`);
      if (done === total) clientCpu = cpuSeconds(process.cpuUsage(clientStart));
    });
    const serverCpu = await cpu.stop();
    process.stderr.write("\n");
    printSeed(result);
    // On a shared machine the wall clock says how busy it was as much as what the load costs: CPU
    // seconds per side say what each side needs (read from /proc for a server on this machine).
    console.log(
      `  load CPU: client ${clientCpu.toFixed(1)} s (${Math.round(result.totalRows / clientCpu)} rows per CPU-second)` +
        (serverCpu
          ? `, server backend ${serverCpu.toFixed(1)} s (${Math.round(result.totalRows / serverCpu)} rows per CPU-second)`
          : "") +
        `; load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}`,
    );
    const figures = seedFigures(result);
    const own = result.index?.indexes.find((i) => i.name === "processed_documents_embedding_idx");
    if (values.sweep && own) {
      const sweep = await indexSweep(
        connectionConfig(target, { applicationName: "sensa bench seed sweep" }),
        { index: own.name, table: "processed_documents", column: "embedding" },
        values.sweep.split(","),
        (own.seconds * 100_000) / own.embeddings,
      );
      for (const [setting, seconds] of Object.entries(sweep.s_per_100k))
        console.log(`  ${own.name} at ${setting.padEnd(8)} ${seconds.toFixed(1)} s per 100k`);
      console.log(
        `  the seed's own build of it: ${sweep.seed_s_per_100k.toFixed(1)} s per 100k = ${sweep.seed_vs_best.toFixed(2)}x the best setting (${sweep.best_setting})`,
      );
      Object.assign(figures, { index_sweep: sweep });
    }
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    await closeDb(db);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
