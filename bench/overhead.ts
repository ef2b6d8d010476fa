import { sql } from "drizzle-orm";
import pg from "pg";
import pgvector from "pgvector";
import { drizzle } from "drizzle-orm/node-postgres";
import * as schema from "../src/schema/index.js";
import {
  isEmbedded,
  searchKeywords,
  findSimilarDocuments,
  withAdmin,
  withUserContext,
  type Database,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { measure, round, summarise } from "./timing.js";

/**
 * What row-level security and the typed wrappers cost, as ratios of p50 latencies measured in
 * the same run:
 * - RLS: user-scoped queries through withUserContext (policies filter) vs the same queries with
 *   the equivalent explicit filter as a role that bypasses RLS (the superuser session);
 * - wrappers: the typed, validated wrapper vs the same SQL sent with plain pg.
 */
export async function overheadSuite(
  db: Database,
  bypass: Database,
  options: { queries: number; log: (s: string) => void },
) {
  const samples = await withAdmin(db, (tx) =>
    queryRows(
      tx,
      sql`SELECT user_id, course_id, embedding::text AS embedding FROM processed_documents ORDER BY id LIMIT ${options.queries}`,
    ),
  );
  const user = (i: number) => String(samples[i % samples.length]!.user_id);
  const course = (i: number) => String(samples[i % samples.length]!.course_id);

  // Each pair: the query as a user under RLS, and its equivalent with the filter spelled out.
  const pairs = {
    my_courses: [
      sql`SELECT id, title FROM courses`,
      (i: number) => sql`SELECT id, title FROM courses WHERE user_id = ${user(i)}::uuid`,
    ],
    my_course_keywords: [
      (i: number) => sql`SELECT id, term FROM keywords WHERE course_id = ${course(i)}::uuid`,
      (i: number) =>
        sql`SELECT id, term FROM keywords WHERE course_id = ${course(i)}::uuid AND user_id = ${user(i)}::uuid`,
    ],
    my_documents_by_status: [
      sql`SELECT processing_status, count(*) FROM course_documents GROUP BY 1`,
      (i: number) =>
        sql`SELECT processing_status, count(*) FROM course_documents WHERE user_id = ${user(i)}::uuid GROUP BY 1`,
    ],
  } as const;

  // Only the query is timed, inside one open transaction per mode (the context is set once,
  // as an app request would): what the policies add, not BEGIN/COMMIT round trips.
  const rls: Record<string, unknown> = {};
  const ratios: number[] = [];
  const u = user(0);
  for (const [name, [withPolicy, explicit]] of Object.entries(pairs)) {
    options.log(`overhead: RLS ${name}`);
    const policyQuery = (i: number) => (typeof withPolicy === "function" ? withPolicy(i) : withPolicy);
    // Sample 0's user and course throughout: user(0) owns course(0).
    // Sub-millisecond queries: many samples, so the p50 is stable.
    const n = Math.max(options.queries, 1000);
    const asUser = await withUserContext(db, u, (tx) => measure(n, () => tx.execute(policyQuery(0)), 50));
    const asBypass = await bypass.transaction((tx) => measure(n, () => tx.execute(explicit(0)), 50));
    const ratio = round(asUser.p50_ms / asBypass.p50_ms, 3);
    ratios.push(ratio);
    rls[name] = { with_rls: asUser, bypass_explicit_filter: asBypass, ratio };
  }

  options.log("overhead: wrappers vs plain pg");
  // Both on one and the same connection, so only the wrapper's own work differs.
  // The pool's own settings (target, TLS, credentials), for a lone client.
  const plain = isEmbedded(db) ? undefined : new pg.Client((db.$client as pg.Pool).options);
  await plain?.connect();
  const wrapperDb = plain ? (drizzle(plain, { schema }) as unknown as Database) : db;
  try {
    const raw = async (text: string, params: unknown[]) => {
      if (plain) return (await plain.query(text, params)).rows;
      return (
        await (db.$client as unknown as { query: (t: string, p: unknown[]) => Promise<{ rows: unknown[] }> }).query(
          text,
          params,
        )
      ).rows;
    };
    // Parsed once: only the wrapper's own work and the query are timed, on both sides.
    const embeddings = samples.map((s) => JSON.parse(String(s.embedding)) as number[]);
    const embedding = (i: number) => embeddings[i % embeddings.length]!;
    // Sub-millisecond queries at 10k: many interleaved pairs, so a fixed cost of a few µs shows.
    const n = Math.max(options.queries, 2000);
    const wrapper = {
      find_similar_documents: await pairedCost(
        n,
        (i) => findSimilarDocuments(wrapperDb, { embedding: embedding(i), limit: 10, threshold: 0.5 }),
        (i) =>
          raw("SELECT * FROM find_similar_documents($1::vector, $2::integer, $3::double precision)", [
            pgvector.toSql(embedding(i)),
            10,
            0.5,
          ]),
      ),
      search_keywords: await pairedCost(
        n,
        (i) => searchKeywords(wrapperDb, { courseId: course(i), query: "mitocondria", limit: 20 }),
        (i) => raw("SELECT * FROM search_keywords($1::uuid, $2::text, $3::integer)", [course(i), "mitocondria", 20]),
      ),
    };
    const wrapperRatios = Object.values(wrapper).map((w) => w.wrapper.p50_ms / w.plain_pg.p50_ms);
    const fixedCosts = Object.values(wrapper).map((w) => w.fixed_cost_us);
    return {
      rls: { ...rls, overhead_ratio: round(Math.max(...ratios), 3), note: "worst of the query pairs" },
      wrapper: {
        ...wrapper,
        overhead_ratio: round(Math.max(...wrapperRatios), 3),
        fixed_cost_us: Math.max(...fixedCosts),
        note: "worst of the functions (p50 over p50); both on one connection as the same role; fixed_cost_us: (wrapper - plain pg) over back-to-back pairs, the mean of its median with the wrapper first and its median with plain pg first",
      },
    };
  } finally {
    await plain?.end();
  }
}

/**
 * The wrapper's own cost per call, from back-to-back pairs whose order swaps every sample: the
 * second call of a pair finds what the first warmed (buffers, the same embedding's pages), an
 * order effect as large as the cost measured. So the differences are kept per order and the fixed
 * cost is the mean of the two medians, in which the order effect cancels; steadier than the
 * difference of two p50s when the machine's load drifts during the run.
 */
async function pairedCost(
  samples: number,
  wrapper: (i: number) => Promise<unknown>,
  plain: (i: number) => Promise<unknown>,
) {
  for (let i = 0; i < 20; i++) {
    await wrapper(i);
    await plain(i);
  }
  const tw: number[] = [];
  const tp: number[] = [];
  const wrapperFirst: number[] = [];
  const plainFirst: number[] = [];
  const time = async (f: (i: number) => Promise<unknown>, i: number) => {
    const t = performance.now();
    await f(i);
    return performance.now() - t;
  };
  for (let i = 0; i < samples; i++) {
    const first = i % 2 === 0 ? wrapper : plain;
    const a = await time(first, i);
    const b = await time(first === wrapper ? plain : wrapper, i);
    const [w, p] = first === wrapper ? [a, b] : [b, a];
    tw.push(w);
    tp.push(p);
    (first === wrapper ? wrapperFirst : plainFirst).push(w - p);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fixedMs = (median(wrapperFirst) + median(plainFirst)) / 2;
  return { wrapper: summarise(tw), plain_pg: summarise(tp), fixed_cost_us: round(fixedMs * 1000, 1) };
}
