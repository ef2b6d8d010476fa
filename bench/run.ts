/**
 * npm run bench -- [--scale 10k|100k] [--url <superuser url>] [--keywords-1m] [--queries N]
 *                  [--pooler-url <pgbouncer url>] [--replica-url <replica url>]
 *
 * Builds a fresh database (a new `sensa_bench` database on the server at --url / BENCH_DATABASE_URL,
 * else embedded PGlite in memory), migrates and seeds it at the given scale, runs the suites,
 * prints a table and writes bench/results/<date>-<backend>-<scale>.json. The PostgreSQL 100k run
 * is also written to bench/results/latest.json.
 */
import { writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { closeDb, connectionConfig, createDb, migrate, resolveTarget, withDatabase, type Database } from "../src/index.js";
import { createEmbeddedDb } from "../src/embedded.js";
import { queryRows } from "../src/functions/rows.js";
import { seed } from "../src/seed/index.js";
import { concurrencySuite, printConcurrency } from "./concurrency.js";
import { overheadSuite } from "./overhead.js";
import { searchSuite } from "./search.js";
import { round } from "./timing.js";
import { vectorSuite } from "./vector.js";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "10k" },
    url: { type: "string" },
    "keywords-1m": { type: "boolean", default: false },
    queries: { type: "string", default: "100" },
    // The concurrency suite also runs through these (superuser urls; the bench database is swapped in).
    "pooler-url": { type: "string" },
    "replica-url": { type: "string" },
  },
});
const SCALES: Record<string, number> = { "1k": 1_000, "10k": 10_000, "100k": 100_000 };
const documents = SCALES[values.scale!];
if (!documents) throw new Error(`--scale must be one of ${Object.keys(SCALES).join(", ")}`);
// Only an explicit url: a bench creates and drops a database, so it never follows DATABASE_URL or
// PGHOST to whatever server the shell happens to point at.
const adminUrl = values.url ?? process.env.BENCH_DATABASE_URL;
const adminTarget = adminUrl ? resolveTarget({ url: adminUrl, env: process.env }) : undefined;
const backend = adminTarget ? "postgresql" : "embedded";
const queries = Number(values.queries);

/** A fresh database, and a way to run SQL as a role that bypasses RLS (a superuser). */
async function openDatabase(): Promise<{ db: Database; bypass: Database; close: () => Promise<void> }> {
  if (!adminTarget) {
    const db = await createEmbeddedDb();
    // PGlite's session is a superuser, which bypasses RLS; withUserContext switches to sensa_app.
    return { db, bypass: db, close: () => closeDb(db) };
  }
  const admin = new pg.Client(connectionConfig(adminTarget, { applicationName: "sensa bench" }));
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS sensa_bench WITH (FORCE)");
  await admin.query("CREATE DATABASE sensa_bench");
  await admin.end();
  const db = createDb({ target: withDatabase(adminTarget, "sensa_bench"), applicationName: "sensa bench", pool: { max: 2 } });
  return { db, bypass: db, close: () => closeDb(db) };
}

const started = performance.now();
const { db, bypass, close } = await openDatabase();
const log = (s: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${s}`);
try {
  const migrateStart = performance.now();
  await migrate(db);
  const migrateMs = performance.now() - migrateStart;
  log(`migrated in ${migrateMs.toFixed(0)} ms; seeding ${documents} documents`);

  // 100 documents per user (5 courses x 20), one chapter and one keyword per document. Chapter
  // embeddings are skipped: no suite reads them, and they would add an HNSW build.
  const seedResult = await seed(db, {
    seed: 2026,
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
  }, (done, total) => process.stderr.write(`\r  seeding ${done}/${total}`));
  process.stderr.write("\n");
  log(`seeded ${seedResult.totalRows} rows in ${seedResult.seconds.toFixed(1)} s (HNSW rebuild ${seedResult.indexSeconds.toFixed(1)} s)`);

  const vector = await vectorSuite(db, { seed: 2026, queries, log });
  const search = await searchSuite(db, { queries, keywords1m: values["keywords-1m"]!, log });
  const overhead = await overheadSuite(db, bypass, { queries, log });
  const concurrency = adminTarget ? await runConcurrency(db) : undefined;

  const [version] = await queryRows(db, sql`SELECT version() AS v, current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem, current_setting('maintenance_work_mem') AS maintenance_work_mem, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector`);
  const report = {
    date: new Date().toISOString(),
    backend,
    scale: { documents, keywords: search.keywords_total },
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 1024 ** 3), arch: arch(), node: process.version },
    postgres: version,
    migrate: { empty_database_ms: Math.round(migrateMs) },
    seed: {
      rows: seedResult.totalRows,
      seconds: round(seedResult.seconds, 1),
      rows_per_second: Math.round(seedResult.rowsPerSecond),
      // The same rows without the HNSW rebuild at the end: the bulk load's own rate.
      load_rows_per_second: Math.round(seedResult.totalRows / (seedResult.seconds - seedResult.indexSeconds)),
      hnsw_rebuild_seconds: round(seedResult.indexSeconds, 1),
    },
    vector: vector,
    filtered: search.filtered,
    keyword_search: search.keyword_search,
    course_search: search.course_search,
    rls: overhead.rls,
    wrapper: overhead.wrapper,
  };
  printTable(report);
  if (concurrency) {
    (report as Record<string, unknown>).concurrency = concurrency;
    printConcurrency(concurrency, vector.ef_search_tradeoff.find((h) => h.ef_search === 40)?.recall_at_10);
  }
  const stamp = report.date.slice(0, 10);
  const file = `bench/results/${stamp}-${backend}-${values.scale}.json`;
  writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
  if (backend === "postgresql" && values.scale === "100k") writeFileSync("bench/results/latest.json", JSON.stringify(report, null, 2) + "\n");
  log(`wrote ${file}`);
} finally {
  await close();
}

/** Latency measurements as one table (p50, p95, qps), then the single figures. */
function printTable(r: Record<string, unknown>) {
  const latencies: Array<[string, Record<string, number>]> = [];
  const figures: Array<[string, string]> = [];
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if ("p50_ms" in v) latencies.push([prefix, v as Record<string, number>]);
      else for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(`${prefix}[${(x as { ef_search?: number }).ef_search ?? i}]`, x));
    else figures.push([prefix, String(v)]);
  };
  walk("", r);
  const w = Math.max(...latencies.map(([k]) => k.length), ...figures.map(([k]) => k.length));
  const num = (n: number | undefined) => (n === undefined ? "" : String(n)).padStart(9);
  console.log(`${"measurement".padEnd(w)}  ${"p50 ms".padStart(9)}  ${"p95 ms".padStart(9)}  ${"qps".padStart(9)}  ${"recall@10".padStart(9)}`);
  for (const [k, l] of latencies) console.log(`${k.padEnd(w)}  ${num(l.p50_ms)}  ${num(l.p95_ms)}  ${num(l.qps)}  ${num(l.recall_at_10)}`);
  console.log("");
  for (const [k, v] of figures) console.log(`${k.padEnd(w)}  ${v}`);
}

/** The concurrency suite on the primary, and through pgbouncer and on the replica when given. */
async function runConcurrency(db: Database) {
  const target = (url: string | undefined) => (url ? resolveTarget({ url, env: process.env }) : undefined);
  const replica = target(values["replica-url"]);
  if (replica) {
    // The replica must have replayed the seeding before it is measured.
    const [{ lsn } = { lsn: "0/0" }] = await queryRows(db, sql`SELECT pg_current_wal_lsn()::text AS lsn`);
    const client = new pg.Client(connectionConfig(withDatabase(replica, "postgres"), { applicationName: "sensa bench" }));
    await client.connect();
    try {
      while (!(await client.query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok", [lsn])).rows[0].ok) await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end();
    }
  }
  return concurrencySuite(db, { primary: adminTarget!, pooler: target(values["pooler-url"]), replica, database: "sensa_bench" }, log);
}
