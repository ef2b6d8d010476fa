import { sql } from "drizzle-orm";
import { withAdmin, withUserContext, type Database, type Transaction } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { Random, vectorLiteral } from "../src/seed/random.js";
import { measure, round, summarise, type Latency } from "./timing.js";

const K = 10;
export const EF_SEARCH = [20, 40, 64, 100, 160, 200];
/** What find_similar_documents sets (sql/functions/; find_similar_keywords sets 100: its index keeps pgvector's defaults). */
export const FUNCTION_EF_SEARCH = 64;
/** Queries run untimed before each sweep, so no sweep pays for reading the index into memory. */
const WARMUP = 20;
/**
 * The seed's build settings at 100k, for the halfvec index built here at every scale
 * (src/seed/indexes.ts sizes the seed's to the graph: 2GB at 300k).
 */
const BUILD_SETTINGS = ["SET LOCAL maintenance_work_mem = '1GB'", "SET LOCAL max_parallel_maintenance_workers = 2"];

export interface VectorSuiteOptions {
  seed: number;
  queries: number;
  log: (s: string) => void;
  /** The seed's build of processed_documents_embedding_idx, in seconds (reported beside the curve). */
  buildSeconds?: number;
  /** Also build an HNSW index over embedding::halfvec(768) with the same parameters, and measure it. */
  halfvec?: boolean;
  /** Also time find_similar_documents on hits, partial answers and misses, as admin_role and as a user. */
  threshold?: boolean;
}

export interface Query {
  embedding: string;
  owner: string;
}

/**
 * The suite's queries: "documents like this one", each a stored document's embedding slightly
 * moved (as a re-processed or new version of it would be), so the answer is a real neighbourhood.
 * The same `seed` picks the same documents and moves them the same way on the same data.
 */
export async function documentQueries(db: Database, seed: number, count: number): Promise<Query[]> {
  const random = new Random(seed + 1);
  const picked = await withAdmin(db, (tx) =>
    queryRows(
      tx,
      sql`SELECT user_id, embedding::text AS e FROM processed_documents ORDER BY md5(id::text || ${seed}) LIMIT ${count}`,
    ),
  );
  return picked.map((r) => ({
    embedding: vectorLiteral(random.around(JSON.parse(String(r.e)) as number[], 0.005)),
    owner: String(r.user_id),
  }));
}

/** The K nearest documents to `q` (a vector literal) by `expression`, with their similarity. */
export const nearestDocuments = (tx: Transaction, q: string, expression = "embedding <=> $q::vector") =>
  queryRows(
    tx,
    sql.raw(
      `SELECT id, 1 - (${expression.replaceAll("$q", `'${q}'`)}) AS similarity FROM processed_documents ORDER BY ${expression.replaceAll("$q", `'${q}'`)} LIMIT ${K}`,
    ),
  ).then((rows) => rows.map((r) => ({ id: String(r.id), similarity: Number(r.similarity) })));

/** Recall@K of `answers` against the exact answers to the same queries, in the same order. */
export const recallAt10 = (answers: Array<Array<{ id: string }>>, exact: Array<Array<{ id: string }>>) =>
  round(
    answers.reduce((sum, a, i) => sum + a.filter((r) => exact[i]!.some((e) => e.id === r.id)).length / K, 0) /
      answers.length,
  );

/**
 * Nearest-neighbour search over processed_documents: the exact answer (sequential scan and
 * sort) against HNSW at several ef_search values: recall@10, latency, queries per second; the
 * index's parameters, size and build time; optionally the same index over halfvec, and
 * find_similar_documents' latency on hits, partial answers and misses.
 */
export async function vectorSuite(db: Database, options: VectorSuiteOptions) {
  const queries = await documentQueries(db, options.seed, options.queries);

  // Each mode runs in one admin transaction, after `warmup` untimed queries; only the query itself is timed.
  const run = (settings: string[], expression?: string, warmup = WARMUP) =>
    withAdmin(db, async (tx) => {
      for (const s of settings) await tx.execute(sql.raw(s));
      for (let i = 0; i < Math.min(warmup, queries.length); i++)
        await nearestDocuments(tx, queries[i]!.embedding, expression);
      const answers: Array<Array<{ id: string; similarity: number }>> = [];
      const latency = await measure(
        queries.length,
        async (i) => answers.push(await nearestDocuments(tx, queries[i]!.embedding, expression)),
        0,
      );
      return { answers, latency };
    });

  options.log("vector: exact scan");
  const exact = await run(["SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"], undefined, 0);
  const recall = (answers: Array<Array<{ id: string }>>) => recallAt10(answers, exact.answers);

  const sweep = [];
  for (const ef of EF_SEARCH) {
    options.log(`vector: HNSW ef_search=${ef}`);
    // The planner sometimes costs a full scan below the index at this size; measure the index.
    const hnsw = await run([`SET LOCAL hnsw.ef_search = ${ef}`, "SET LOCAL enable_seqscan = off"]);
    sweep.push({ ef_search: ef, recall_at_10: recall(hnsw.answers), ...hnsw.latency });
  }
  const chosen = sweep.find((s) => s.ef_search === FUNCTION_EF_SEARCH)!;

  const [index] = await queryRows(
    db,
    sql`SELECT indexdef, pg_relation_size(indexname::regclass) AS bytes FROM pg_indexes WHERE indexname = 'processed_documents_embedding_idx'`,
  );
  const parameters = hnswParameters(String(index!.indexdef));

  // Filtered: one user's documents under RLS. Without iterative scans HNSW returns ef_search
  // global candidates and RLS drops most of them; with them the scan continues.
  options.log("vector: filtered by RLS");
  const userId = queries[0]!.owner;
  const underRls = (mode: "off" | "relaxed_order") =>
    withUserContext(db, userId, async (tx) => {
      await tx.execute(sql.raw(`SET LOCAL hnsw.iterative_scan = ${mode}`));
      for (let i = 0; i < Math.min(WARMUP, queries.length); i++) await nearestDocuments(tx, queries[i]!.embedding);
      const counts: number[] = [];
      const latency = await measure(
        queries.length,
        async (i) => counts.push((await nearestDocuments(tx, queries[i]!.embedding)).length),
        0,
      );
      return { ...latency, mean_rows_returned: round(counts.reduce((a, b) => a + b, 0) / counts.length, 2) };
    });
  const rlsOff = await underRls("off");
  const rlsIterative = await underRls("relaxed_order");

  const halfvec = options.halfvec
    ? await halfvecIndex(
        db,
        options,
        parameters,
        (settings, expression) => run(settings, expression),
        recall,
        Number(index!.bytes),
      )
    : undefined;
  const threshold = options.threshold ? await thresholdSuite(db, queries, exact.answers, options) : undefined;

  return {
    queries: queries.length,
    exact: exact.latency,
    hnsw: chosen,
    recall_at_10: chosen.recall_at_10,
    speedup_vs_exact: round(exact.latency.p50_ms / chosen.p50_ms, 1),
    ef_search_tradeoff: sweep,
    index_parameters: parameters,
    hnsw_build_seconds: options.buildSeconds === undefined ? null : round(options.buildSeconds, 1),
    hnsw_index_mib: round(Number(index!.bytes) / 1024 ** 2, 1),
    user_scoped_under_rls: { iterative_scan_off: rlsOff, iterative_scan_relaxed: rlsIterative },
    ...(halfvec ? { halfvec } : {}),
    ...(threshold ? { threshold } : {}),
  };
}

/** m and ef_construction of an HNSW index definition (pgvector's defaults when not given). */
export function hnswParameters(indexdef: string) {
  const m = /\bm\s*=\s*'?(\d+)/.exec(indexdef);
  const efc = /ef_construction\s*=\s*'?(\d+)/.exec(indexdef);
  return { m: m ? Number(m[1]) : 16, ef_construction: efc ? Number(efc[1]) : 64 };
}

/**
 * The same HNSW index (m, ef_construction) over embedding::halfvec(768): half the bytes per
 * vector. Its recall is measured against the exact full-precision answer, so it counts both the
 * graph and the rounding to 16-bit floats. Built with the seed's settings, then dropped.
 */
async function halfvecIndex(
  db: Database,
  options: VectorSuiteOptions,
  parameters: { m: number; ef_construction: number },
  run: (
    settings: string[],
    expression: string,
  ) => Promise<{ answers: Array<Array<{ id: string; similarity: number }>>; latency: Latency }>,
  recall: (answers: Array<Array<{ id: string }>>) => number,
  vectorBytes: number,
) {
  options.log("vector: halfvec index build");
  const started = performance.now();
  await db.transaction(async (tx) => {
    for (const s of BUILD_SETTINGS) await tx.execute(sql.raw(s));
    await tx.execute(
      sql.raw(
        `CREATE INDEX bench_halfvec_idx ON processed_documents USING hnsw ((embedding::halfvec(768)) halfvec_cosine_ops) WITH (m = ${parameters.m}, ef_construction = ${parameters.ef_construction})`,
      ),
    );
  });
  const buildSeconds = (performance.now() - started) / 1000;
  const [size] = await queryRows(db, sql`SELECT pg_relation_size('bench_halfvec_idx') AS bytes`);
  await db.execute(sql`ANALYZE processed_documents`);
  const sweep = [];
  for (const ef of [40, FUNCTION_EF_SEARCH, 200]) {
    options.log(`vector: halfvec ef_search=${ef}`);
    const r = await run(
      [`SET LOCAL hnsw.ef_search = ${ef}`, "SET LOCAL enable_seqscan = off"],
      "embedding::halfvec(768) <=> $q::halfvec(768)",
    );
    sweep.push({ ef_search: ef, recall_at_10: recall(r.answers), ...r.latency });
  }
  await db.execute(sql`DROP INDEX bench_halfvec_idx`);
  const chosen = sweep.find((s) => s.ef_search === FUNCTION_EF_SEARCH)!;
  return {
    recall_at_10: chosen.recall_at_10,
    hnsw: chosen,
    ef_search_tradeoff: sweep,
    build_seconds: round(buildSeconds, 1),
    index_mib: round(Number(size!.bytes) / 1024 ** 2, 1),
    index_size_ratio: round(Number(size!.bytes) / vectorBytes, 3),
  };
}

/**
 * find_similar_documents as deployed, on three kinds of query, as admin_role (the whole corpus,
 * through HNSW) and as the document's owner (row-level security: the user's rows):
 * - hit: a moved stored document at the default threshold 0.7 (its course's documents are ~0.9 similar);
 * - partial: the same queries with the threshold between the 5th and 6th exact neighbour's similarity;
 * - miss: a random direction (~0 similar to everything) at 0.7.
 * A miss used to cost ~30x a hit for admin_role (the HNSW scan walked to its budget).
 */
async function thresholdSuite(
  db: Database,
  queries: Query[],
  exact: Array<Array<{ similarity: number }>>,
  options: VectorSuiteOptions,
) {
  const random = new Random(options.seed + 2);
  const kinds = {
    hit: queries.map((q) => ({ ...q, threshold: 0.7 })),
    partial: queries.map((q, i) => ({ ...q, threshold: (exact[i]![4]!.similarity + exact[i]![5]!.similarity) / 2 })),
    miss: queries.map((q) => ({ ...q, embedding: vectorLiteral(random.unitVector()), threshold: 0.7 })),
  };
  const call = (tx: Transaction, q: { embedding: string; threshold: number }) =>
    queryRows(
      tx,
      sql`SELECT processed_document_id FROM find_similar_documents(${q.embedding}::vector, ${K}, ${q.threshold})`,
    );
  const result: Record<string, Record<string, Latency & { mean_rows: number }>> = {};
  for (const role of ["admin_role", "user"] as const) {
    result[role] = {};
    for (const [kind, list] of Object.entries(kinds)) {
      const plural = ({ hit: "hits", partial: "partial answers", miss: "misses" } as Record<string, string>)[kind];
      options.log(`vector: find_similar_documents ${plural} as ${role}`);
      const times: number[] = [];
      let rows = 0;
      // Each call in its own context, as the API makes them; only the call is timed.
      const once = (i: number, timed: boolean) => {
        const q = list[i % list.length]!;
        const body = async (tx: Transaction) => {
          const t = performance.now();
          rows += timed ? (await call(tx, q)).length : 0;
          if (!timed) await call(tx, q);
          if (timed) times.push(performance.now() - t);
        };
        return role === "admin_role" ? withAdmin(db, body) : withUserContext(db, q.owner, body);
      };
      for (let i = 0; i < Math.min(WARMUP, list.length); i++) await once(i, false);
      for (let i = 0; i < list.length; i++) await once(i, true);
      result[role]![kind] = { ...summarise(times), mean_rows: round(rows / list.length, 2) };
    }
  }
  const ratio = (role: string, kind: string) => round(result[role]![kind]!.p50_ms / result[role]!.hit!.p50_ms, 2);
  return {
    ...result,
    miss_to_hit_ratio: { admin_role: ratio("admin_role", "miss"), user: ratio("user", "miss") },
    partial_to_hit_ratio: { admin_role: ratio("admin_role", "partial"), user: ratio("user", "partial") },
  };
}
