/**
 * npm run bench -- [--scales 10k,100k,300k] [--url <superuser url>] [--keywords-1m] [--queries N]
 *                  [--rls-samples N] [--no-concurrency] [--pooler-url <pgbouncer url>] [--replica-url <replica url>]
 *                  [--index-sweep 1GB/2,2GB/2,4GB/2 | --no-index-sweep]
 *
 * One run, the whole curve: for each scale, a fresh database (a new `sensa_bench` database on the
 * server at --url / BENCH_DATABASE_URL, else embedded PGlite in memory), migrated and seeded
 * (bench/seed.ts's data set), then the vector suite (exact vs HNSW over ef_search, recall@10,
 * index size and build time; hits, partial answers and misses of find_similar_documents as
 * admin_role and as a user; from 100k on, the same index over halfvec). The main scale (100k, or
 * the largest asked for) also runs the search, RLS and concurrency suites; the smallest, the
 * wrappers' overhead (sub-millisecond queries, where a fixed cost shows); on a server the main scale
 * ends by rebuilding the documents' HNSW index under --index-sweep's settings, against the seed's
 * own build (bench/index-sweep.ts). Prints a table and
 * writes bench/results/<date>-<backend>-<scales>.json; a PostgreSQL run that includes 100k and
 * 300k is also bench/results/latest.json.
 */
import { writeFileSync } from "node:fs";
import { arch, cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import {
  closeDb,
  connectionConfig,
  createDb,
  migrate,
  resolveTarget,
  withDatabase,
  type Database,
} from "../src/index.js";
import { createEmbeddedDb } from "../src/embedded.js";
import { queryRows } from "../src/db/query.js";
import { seed } from "../src/seed/index.js";
import { concurrencySuite, printConcurrency } from "./concurrency.js";
import { overheadSuite } from "./overhead.js";
import { rlsSuite } from "./rls.js";
import { searchSuite } from "./search.js";
import { DEFAULT_SWEEP, indexSweep } from "./index-sweep.js";
import { BENCH_SEED, benchSeedOptions, seedFigures } from "./seed.js";
import { round } from "./timing.js";
import { vectorSuite } from "./vector.js";

const { values } = parseArgs({
  options: {
    scales: { type: "string" },
    // The single-scale form of earlier runs: --scale 100k is --scales 100k.
    scale: { type: "string" },
    url: { type: "string" },
    "keywords-1m": { type: "boolean", default: false },
    queries: { type: "string", default: "100" },
    "rls-samples": { type: "string", default: "6000" },
    "no-concurrency": { type: "boolean", default: false },
    // The server database the run creates (and drops first): another name lets two runs share a server.
    database: { type: "string", default: "sensa_bench" },
    // The concurrency suite also runs through these (superuser urls; the bench database is swapped in).
    "pooler-url": { type: "string" },
    "replica-url": { type: "string" },
    // The HNSW rebuild under other settings at the main scale (server only), against the seed's own.
    "index-sweep": { type: "string", default: DEFAULT_SWEEP.join(",") },
    "no-index-sweep": { type: "boolean", default: false },
  },
});
const SCALES: Record<string, number> = { "1k": 1_000, "10k": 10_000, "100k": 100_000, "300k": 300_000 };
// Only an explicit url: a bench creates and drops a database, so it never follows DATABASE_URL or
// PGHOST to whatever server the shell happens to point at.
const adminUrl = values.url ?? process.env.BENCH_DATABASE_URL;
const adminTarget = adminUrl ? resolveTarget({ url: adminUrl, env: process.env }) : undefined;
const backend = adminTarget ? "postgresql" : "embedded";
const scaleNames = (values.scales ?? values.scale ?? (adminTarget ? "10k,100k,300k" : "10k")).split(",");
for (const name of scaleNames)
  if (!SCALES[name]) throw new Error(`--scales takes ${Object.keys(SCALES).join(", ")}, comma-separated`);
const scales = scaleNames.map((name) => ({ name, documents: SCALES[name]! })).sort((a, b) => a.documents - b.documents);
const main = scales.find((s) => s.documents === 100_000) ?? scales.at(-1)!;
const smallest = scales[0]!;
const queries = Number(values.queries);
const database = values.database!;

/** A fresh database. */
async function openDatabase(): Promise<{ db: Database; close: () => Promise<void> }> {
  if (!adminTarget) {
    const db = await createEmbeddedDb();
    return { db, close: () => closeDb(db) };
  }
  const admin = new pg.Client(connectionConfig(adminTarget, { applicationName: "sensa bench" }));
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const db = createDb({
    target: withDatabase(adminTarget, database),
    applicationName: "sensa bench",
    pool: { max: 2 },
  });
  return { db, close: () => closeDb(db) };
}

const started = performance.now();
const log = (s: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${s}`);
const perScale: Record<string, Record<string, unknown>> = {};
const curve: Array<Record<string, unknown>> = [];
let report: Record<string, unknown> | undefined;
for (const scale of scales) {
  const { db, close } = await openDatabase();
  try {
    log(`${scale.name}: migrating`);
    const migrateStart = performance.now();
    await migrate(db);
    const migrateMs = performance.now() - migrateStart;
    if (scale !== main) {
      // Only the main scale searches keywords by similarity: the other scales skip that index's build.
      await db.execute(sql`DROP INDEX IF EXISTS keywords_embedding_idx`);
    }
    log(`${scale.name}: migrated in ${migrateMs.toFixed(0)} ms; seeding ${scale.documents} documents`);
    const seedResult = await seed(db, benchSeedOptions(scale.documents), (done, total) =>
      process.stderr.write(`\r  seeding ${done}/${total}`),
    );
    process.stderr.write("\n");
    const docsBuild = seedResult.index?.indexes.find((i) => i.name === "processed_documents_embedding_idx");
    log(
      `${scale.name}: seeded ${seedResult.totalRows} rows in ${seedResult.seconds.toFixed(1)} s (load ${seedResult.load.seconds.toFixed(1)} s, HNSW ${seedResult.indexSeconds.toFixed(1)} s)`,
    );

    const vector = await vectorSuite(db, {
      seed: BENCH_SEED,
      queries,
      log,
      buildSeconds: docsBuild?.seconds,
      halfvec: scale.documents >= 100_000,
      threshold: true,
    });
    curve.push({
      documents: scale.documents,
      ...vector.index_parameters,
      ef_search: vector.hnsw.ef_search,
      recall_at_10: vector.recall_at_10,
      hnsw_p50_ms: vector.hnsw.p50_ms,
      exact_p50_ms: vector.exact.p50_ms,
      hnsw_index_mib: vector.hnsw_index_mib,
      hnsw_build_seconds: vector.hnsw_build_seconds,
      recall_by_ef_search: Object.fromEntries(vector.ef_search_tradeoff.map((e) => [e.ef_search, e.recall_at_10])),
      ...(vector.halfvec
        ? {
            halfvec: {
              recall_at_10: vector.halfvec.recall_at_10,
              hnsw_p50_ms: vector.halfvec.hnsw.p50_ms,
              index_mib: vector.halfvec.index_mib,
              build_seconds: vector.halfvec.build_seconds,
            },
          }
        : {}),
      ...(vector.threshold ? { miss_to_hit_ratio: vector.threshold.miss_to_hit_ratio } : {}),
    });
    perScale[scale.name] = { vector, seed: seedResult };
    const wrapper = scale === smallest ? (await overheadSuite(db, db, { queries, log })).wrapper : undefined;
    if (wrapper) perScale[scale.name]!.wrapper = wrapper;
    if (scale !== main) continue;

    const search = await searchSuite(db, { queries, keywords1m: values["keywords-1m"]!, log });
    const rls = adminTarget
      ? await rlsSuite(
          db,
          connectionConfig(withDatabase(adminTarget, database), { applicationName: "sensa bench rls" }),
          { samples: Number(values["rls-samples"]), log },
        )
      : (await overheadSuite(db, db, { queries, log })).rls;
    const concurrency = adminTarget && !values["no-concurrency"] ? await runConcurrency(db) : undefined;
    // Last: it rebuilds the documents' index under other settings (the suites above measured the seed's own).
    const sweep =
      adminTarget && docsBuild && !values["no-index-sweep"]
        ? await indexSweep(
            connectionConfig(withDatabase(adminTarget, database), { applicationName: "sensa bench sweep" }),
            { index: docsBuild.name, table: "processed_documents", column: "embedding" },
            values["index-sweep"]!.split(","),
            (docsBuild.seconds * 100_000) / docsBuild.embeddings,
            log,
          )
        : undefined;
    const [version] = await queryRows(
      db,
      sql`SELECT version() AS v, current_setting('shared_buffers') AS shared_buffers, current_setting('work_mem') AS work_mem, current_setting('maintenance_work_mem') AS maintenance_work_mem, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector`,
    );
    report = {
      date: new Date().toISOString(),
      backend,
      scale: { documents: scale.documents, keywords: search.keywords_total },
      machine: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        memory_gib: Math.round(totalmem() / 1024 ** 3),
        arch: arch(),
        node: process.version,
      },
      postgres: version,
      migrate: { empty_database_ms: Math.round(migrateMs) },
      seed: {
        rows: seedResult.totalRows,
        seconds: round(seedResult.seconds, 1),
        rows_per_second: Math.round(seedResult.rowsPerSecond),
        hnsw_rebuild_seconds: round(seedResult.indexSeconds, 1),
        ...seedFigures(seedResult),
        ...(sweep ? { index_sweep: sweep } : {}),
      },
      vector,
      filtered: search.filtered,
      keyword_search: search.keyword_search,
      course_search: search.course_search,
      rls,
      ...(concurrency ? { concurrency } : {}),
    };
  } finally {
    await close();
  }
}

// The figures issue 15 asks for, beside the main scale's: the 300k recall, the worst miss/hit
// ratio (of both roles, at every scale measured), halfvec at the main scale, the wrappers at the
// smallest scale.
type VectorResult = Awaited<ReturnType<typeof vectorSuite>>;
const vectorAt = (name: string) => perScale[name]?.vector as VectorResult | undefined;
const mainVector = vectorAt(main.name)!;
const ratios = scales.flatMap((s) => Object.values(vectorAt(s.name)?.threshold?.miss_to_hit_ratio ?? {}));
Object.assign(mainVector, {
  recall_at_10_300k: vectorAt("300k")?.recall_at_10 ?? null,
  miss_to_hit_ratio: ratios.length ? Math.max(...ratios) : null,
  miss_to_hit_note: "worst of admin_role and a user, at every scale of the run (p50 of a miss over p50 of a hit)",
});
const wrapper = perScale[smallest.name]!.wrapper as { overhead_ratio: number } & Record<string, unknown>;
const full: Record<string, unknown> = {
  ...report!,
  halfvec: mainVector.halfvec
    ? {
        index_size_ratio: mainVector.halfvec.index_size_ratio,
        recall_at_10: mainVector.halfvec.recall_at_10,
        recall_at_10_300k: vectorAt("300k")?.halfvec?.recall_at_10 ?? null,
        index_size_ratio_300k: vectorAt("300k")?.halfvec?.index_size_ratio ?? null,
        note: `an HNSW index over embedding::halfvec(768) with the same parameters, at ${main.name} (and 300k); recall against the exact full-precision answer`,
      }
    : null,
  wrapper: { ...wrapper, scale: smallest.documents },
  scale_curve: curve,
};
printTable(full);
const concurrency = full.concurrency as Parameters<typeof printConcurrency>[0] | undefined;
if (concurrency)
  printConcurrency(concurrency, mainVector.ef_search_tradeoff.find((h) => h.ef_search === 40)?.recall_at_10);
const stamp = String(full.date).slice(0, 10);
const file = `bench/results/${stamp}-${backend}-${scales.map((s) => s.name).join("-")}.json`;
writeFileSync(file, JSON.stringify(full, null, 2) + "\n");
if (backend === "postgresql" && perScale["100k"] && perScale["300k"])
  writeFileSync("bench/results/latest.json", JSON.stringify(full, null, 2) + "\n");
log(`wrote ${file}`);

/** Latency measurements as one table (p50, p95, qps), then the single figures. */
function printTable(r: Record<string, unknown>) {
  const latencies: Array<[string, Record<string, number>]> = [];
  const figures: Array<[string, string]> = [];
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if ("p50_ms" in v) latencies.push([prefix, v as Record<string, number>]);
      else for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else if (Array.isArray(v))
      v.forEach((x, i) => walk(`${prefix}[${(x as { ef_search?: number }).ef_search ?? i}]`, x));
    else figures.push([prefix, String(v)]);
  };
  walk("", r);
  const w = Math.max(...latencies.map(([k]) => k.length), ...figures.map(([k]) => k.length));
  const num = (n: number | undefined) => (n === undefined ? "" : String(n)).padStart(9);
  console.log(
    `${"measurement".padEnd(w)}  ${"p50 ms".padStart(9)}  ${"p95 ms".padStart(9)}  ${"qps".padStart(9)}  ${"recall@10".padStart(9)}`,
  );
  for (const [k, l] of latencies)
    console.log(`${k.padEnd(w)}  ${num(l.p50_ms)}  ${num(l.p95_ms)}  ${num(l.qps)}  ${num(l.recall_at_10)}`);
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
    const client = new pg.Client(
      connectionConfig(withDatabase(replica, "postgres"), { applicationName: "sensa bench" }),
    );
    await client.connect();
    try {
      while (!(await client.query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok", [lsn])).rows[0].ok)
        await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end();
    }
  }
  return concurrencySuite(db, { primary: adminTarget!, pooler: target(values["pooler-url"]), replica, database }, log);
}
