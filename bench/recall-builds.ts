/**
 * npx tsx bench/recall-builds.ts --url <superuser url> [--database sensa_bench_seed] [--builds 8]
 *                                [--queries 100] [--with "m = 32, ef_construction = 128"]
 *
 * How much of a recall figure is the build: rebuilds the documents' HNSW index of a seeded
 * database (bench/seed.ts's, by default) several times with the seed's settings, and measures
 * each build on the vector suite's queries (bench/vector.ts, same seed: the same queries) at
 * several ef_search values. A pgvector build inserts in parallel, so two builds of the same rows
 * are two graphs. Besides recall@10, each build reports the queries it answered with none of their
 * exact neighbours ("lost whole"): the search ended in another part of the corpus, which no
 * ef_search up to 200 repaired on the builds measured so far (README, Performance). With --with,
 * the builds use those index parameters instead of the catalog's, and the index is put back as
 * it was at the end. Prints a table; writes bench/results/<date>-recall-builds-<parameters>.json.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { sql } from "drizzle-orm";
import { closeDb, connectionConfig, createDb, resolveTarget, withAdmin, withDatabase } from "../src/index.js";
import { EMBEDDING_DIMENSIONS } from "../src/db/constants.js";
import { INDEX_BUILD_SETTINGS, graphMemoryMB } from "../src/seed/indexes.js";
import { rebuild } from "./index-sweep.js";
import { BENCH_SEED } from "./seed.js";
import { round } from "./timing.js";
import { EF_SEARCH, documentQueries, nearestDocuments, recallAt10 } from "./vector.js";

const INDEX = "processed_documents_embedding_idx";
/** Past the suite's widest ef_search: whether a lost query is reachable at all. */
const WIDE = 1000;

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string" },
      database: { type: "string", default: "sensa_bench_seed" },
      builds: { type: "string", default: "8" },
      queries: { type: "string", default: "100" },
      with: { type: "string" },
    },
  });
  const adminUrl = values.url ?? process.env.BENCH_DATABASE_URL;
  const builds = Number(values.builds);
  if (!adminUrl || !(builds >= 1))
    throw new Error(
      "usage: bench/recall-builds.ts --url <superuser url> [--database name] [--builds N] [--with params]",
    );
  if (values.with !== undefined && !/^[a-z_]+ *= *\d+( *, *[a-z_]+ *= *\d+)*$/.test(values.with))
    throw new Error(`--with takes index parameters, as "m = 32, ef_construction = 128": ${values.with}`);
  const target = withDatabase(resolveTarget({ url: adminUrl, env: process.env })!, values.database!);
  const db = createDb({ target, applicationName: "sensa bench recall-builds", pool: { max: 1 } });
  const client = new pg.Client(connectionConfig(target, { applicationName: "sensa bench recall-builds" }));
  await client.connect();
  const { rows } = await client.query<{ def: string }>("SELECT pg_get_indexdef($1::regclass) AS def", [INDEX]);
  const catalogDefinition = rows[0]!.def;
  // An index built with pgvector's defaults has no WITH clause: --with adds one.
  const definition = !values.with
    ? catalogDefinition
    : / WITH \(.*\)$/.test(catalogDefinition)
      ? catalogDefinition.replace(/ WITH \(.*\)$/, ` WITH (${values.with})`)
      : `${catalogDefinition} WITH (${values.with})`;
  // The seed's settings for a graph of this size (src/seed/indexes.ts), as index-sweep spells them.
  const { rows: count } = await client.query<{ n: number }>(
    "SELECT count(embedding)::int AS n FROM processed_documents",
  );
  const setting = `${graphMemoryMB(count[0]!.n, EMBEDDING_DIMENSIONS, "server")}MB/${INDEX_BUILD_SETTINGS.server.parallelWorkers}`;
  try {
    const queries = await documentQueries(db, BENCH_SEED, Number(values.queries));
    const answers = (settings: string[]) =>
      withAdmin(db, async (tx) => {
        for (const s of settings) await tx.execute(sql.raw(s));
        const out = [];
        for (const q of queries) out.push(await nearestDocuments(tx, q.embedding));
        return out;
      });
    console.error(`exact answers to ${queries.length} queries`);
    const exact = await answers(["SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"]);
    const results = [];
    for (let b = 1; b <= builds; b++) {
      console.error(`build ${b} of ${builds}: ${definition}`);
      const seconds = await rebuild(client, INDEX, setting, definition);
      const recall: Record<number, number> = {};
      let lost: number[] = [];
      for (const ef of [...EF_SEARCH, WIDE]) {
        const hnsw = await answers([`SET LOCAL hnsw.ef_search = ${ef}`, "SET LOCAL enable_seqscan = off"]);
        recall[ef] = recallAt10(hnsw, exact);
        if (ef === 64) lost = hnsw.flatMap((a, i) => (a.some((r) => exact[i]!.some((e) => e.id === r.id)) ? [] : [i]));
      }
      results.push({ build: b, seconds: round(seconds, 1), recall_at_10: recall, lost_whole_at_64: lost });
      console.error(`  recall@10 at ef_search 64: ${recall[64]}; lost whole: ${lost.length}`);
    }
    const report = {
      date: new Date().toISOString(),
      database: values.database,
      index: definition,
      setting: setting,
      queries: queries.length,
      builds: results,
      builds_losing_a_query_at_64: results.filter((r) => r.lost_whole_at_64.length > 0).length,
    };
    console.log(`${INDEX}, ${builds} builds at ${setting}: ${definition.replace(/.*USING /, "")}`);
    console.log(
      `build  seconds  ${[...EF_SEARCH, WIDE].map((ef) => `ef ${ef}`.padStart(8)).join("")}  lost whole at ef 64`,
    );
    for (const r of results)
      console.log(
        `${String(r.build).padStart(5)}  ${r.seconds.toFixed(1).padStart(7)}  ${Object.values(r.recall_at_10)
          .map((x) => x.toFixed(3).padStart(8))
          .join("")}  ${r.lost_whole_at_64.length ? `queries ${r.lost_whole_at_64.join(", ")}` : "-"}`,
      );
    // Named for the parameters too: runs with and without --with on one day keep their own files.
    const parameters = (/WITH \((.*)\)/.exec(definition)?.[1] ?? "").replace(/[^a-z0-9_,]/g, "").replace(/,/g, "-");
    const file = `bench/results/${report.date.slice(0, 10)}-recall-builds-${parameters}.json`;
    writeFileSync(file, JSON.stringify(report, null, 2) + "\n");
    console.log(`wrote ${file}`);
  } finally {
    if (values.with) await rebuild(client, INDEX, setting, catalogDefinition);
    await client.end();
    await closeDb(db);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
