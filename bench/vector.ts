import { sql } from "drizzle-orm";
import { isEmbedded, withAdmin, withUserContext, type Database, type Transaction } from "../src/index.js";
import { queryRows } from "../src/functions/rows.js";
import { Random, vectorLiteral } from "../src/seed/random.js";
import { measure, round } from "./timing.js";

const K = 10;
const EF_SEARCH = [10, 20, 40, 80, 100, 160, 320];
/** What find_similar_documents and find_similar_keywords set (sql/functions/). */
const FUNCTION_EF_SEARCH = 100;

/**
 * Nearest-neighbour search over processed_documents: the exact answer (sequential scan and
 * sort) against HNSW at several ef_search values: recall@10, latency, queries per second; the
 * index's build time and size.
 */
export async function vectorSuite(db: Database, options: { seed: number; queries: number; log: (s: string) => void }) {
  // "Documents like this one": each query is a stored document's embedding, slightly moved (as a
  // re-processed or new version of it would be), so the answer is a real neighbourhood.
  const random = new Random(options.seed + 1);
  const picked = await withAdmin(db, (tx) =>
    queryRows(tx, sql`SELECT embedding::text AS e FROM processed_documents ORDER BY md5(id::text || ${options.seed}) LIMIT ${options.queries}`),
  );
  const queries = picked.map((r) => vectorLiteral(random.around(JSON.parse(String(r.e)) as number[], 0.005)));
  const nearest = (tx: Transaction, q: string) =>
    queryRows(tx, sql`SELECT id FROM processed_documents ORDER BY embedding <=> ${q}::vector LIMIT ${K}`).then((rows) => rows.map((r) => String(r.id)));

  // Each mode runs in one admin transaction; only the query itself is timed.
  const run = (settings: string[]) =>
    withAdmin(db, async (tx) => {
      for (const s of settings) await tx.execute(sql.raw(s));
      const answers: string[][] = [];
      const latency = await measure(queries.length, async (i) => answers.push(await nearest(tx, queries[i]!)), 0);
      return { answers, latency };
    });

  options.log("vector: exact scan");
  const exact = await run(["SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"]);
  const recall = (answers: string[][]) =>
    round(answers.reduce((sum, a, i) => sum + a.filter((id) => exact.answers[i]!.includes(id)).length / K, 0) / answers.length);

  const sweep = [];
  for (const ef of EF_SEARCH) {
    options.log(`vector: HNSW ef_search=${ef}`);
    // The planner sometimes costs a full scan below the index at this size; measure the index.
    const hnsw = await run([`SET LOCAL hnsw.ef_search = ${ef}`, "SET LOCAL enable_seqscan = off"]);
    sweep.push({ ef_search: ef, recall_at_10: recall(hnsw.answers), ...hnsw.latency });
  }
  const chosen = sweep.find((s) => s.ef_search === FUNCTION_EF_SEARCH)!;

  options.log("vector: HNSW build");
  const [definition] = await queryRows(db, sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'processed_documents_embedding_idx'`);
  await db.execute(sql`DROP INDEX processed_documents_embedding_idx`);
  const buildStart = performance.now();
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL maintenance_work_mem = '${isEmbedded(db) ? "512MB" : "2GB"}'`));
    await tx.execute(sql.raw(String(definition!.indexdef)));
  });
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const [size] = await queryRows(db, sql`SELECT pg_relation_size('processed_documents_embedding_idx') AS bytes`);

  // Filtered: one user's documents under RLS. Without iterative scans HNSW returns ef_search
  // global candidates and RLS drops most of them; with them the scan continues.
  options.log("vector: filtered by RLS");
  const [someUser] = await withAdmin(db, (tx) => queryRows(tx, sql`SELECT user_id FROM processed_documents LIMIT 1`));
  const userId = String(someUser!.user_id);
  const underRls = (mode: "off" | "relaxed_order") =>
    withUserContext(db, userId, async (tx) => {
      await tx.execute(sql.raw(`SET LOCAL hnsw.iterative_scan = ${mode}`));
      const counts: number[] = [];
      const latency = await measure(queries.length, async (i) => counts.push((await nearest(tx, queries[i]!)).length), 0);
      return { ...latency, mean_rows_returned: round(counts.reduce((a, b) => a + b, 0) / counts.length, 2) };
    });
  const rlsOff = await underRls("off");
  const rlsIterative = await underRls("relaxed_order");

  return {
    queries: queries.length,
    exact: exact.latency,
    hnsw: chosen,
    recall_at_10: chosen.recall_at_10,
    speedup_vs_exact: round(exact.latency.p50_ms / chosen.p50_ms, 1),
    ef_search_tradeoff: sweep,
    hnsw_build_seconds: round(buildSeconds, 2),
    hnsw_index_mib: round(Number(size!.bytes) / 1024 ** 2, 1),
    user_scoped_under_rls: { iterative_scan_off: rlsOff, iterative_scan_relaxed: rlsIterative },
  };
}

