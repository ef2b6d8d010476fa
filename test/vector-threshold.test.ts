import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withAdmin, withUserContext, type Transaction } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { Random, vectorLiteral } from "../src/seed/random.js";
import { seed } from "../src/seed/index.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { benchSeedOptions } from "../bench/seed.js";

// find_similar_documents applies its threshold outside the index-ordered LIMIT (migration 0006):
// a miss no longer walks the HNSW graph to pgvector's scan budget. This file holds the function as
// it was before 0006 (threshold inside the LIMIT) and compares both over a few hundred queries on the
// benchmark's seeded data, as admin_role (the whole corpus, through HNSW) and as each document's
// owner (row-level security, the user's rows), against the exact answer (no index).
//
// How the function reads the index (sql/functions/find_similar_documents.sql): one HNSW scan
// (ef_search 64, iterative_scan relaxed_order); its first LIMIT rows when they all reach the
// threshold, else the same scan read on to SCAN_ROWS rows in all and the nearest LIMIT of those
// that reach it. Both steps are replayed here as plain queries with the function's settings, and
// the scan is deterministic for a given index, so as admin_role:
//   - a query whose first LIMIT rows all reach the threshold gets exactly those rows, in order,
//     having read LIMIT rows (the 0006 answer and cost);
//   - any other query (every partial answer and miss, and a hit whose first batch went astray)
//     gets exactly the replayed SCAN_ROWS answer, having read SCAN_ROWS rows: without the second
//     step it reads LIMIT, so the 120 partial answers and misses catch a missing second step on
//     every run;
//   - rows reach the threshold with their exact similarity, in order, and when fewer than LIMIT
//     rows of the whole corpus reach it (partial answers, misses), every row is one of them.
// Why the second step: the seed's data is clustered by subject, and on some index builds a
// near-duplicate's first 64 candidates all lie in another subject, so the first batch holds no row
// above 0.7 while 10 exist. The pre-0006 function kept walking and found them; 0006 returned [],
// which made "hits are identical to the pre-0006 function" fail about one run in 30. How often a
// first batch goes astray depends on the build (pgvector draws each element's level at random), so
// that is counted and printed, not asserted; the replay comparison holds whatever the graph. The
// run also prints how many answers equal the pre-0006 function's.

const DOCUMENTS = onServer() ? 5_000 : 1_000;
const LIMIT = 10;
const PER_KIND = 60; // queries per kind (hit, partial, miss) and role: 360 in all
// How many rows of its scan find_similar_documents reads when the first LIMIT do not all reach the
// threshold (three batches of ef_search 64; the function's `greatest(result_limit, 192)`).
const SCAN_ROWS = 192;

// The function before 0006, at today's ef_search (0006 also lowered it, 100 to 64, a separate change
// measured by the bench), so that only the threshold's place differs.
const BEFORE = `
CREATE FUNCTION find_similar_documents_before_0006(query_embedding vector(768), result_limit integer, min_similarity double precision)
RETURNS TABLE (processed_document_id uuid, document_id uuid, course_id uuid, title text, similarity double precision)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
SET hnsw.iterative_scan = 'relaxed_order'
SET enable_seqscan = off
SET hnsw.ef_search = 64
SET search_path = public, pg_temp
AS $$
	SELECT id, document_id, course_id, title, 1 - distance
	FROM (
		SELECT p.id, p.document_id, p.course_id, p.title, p.embedding <=> query_embedding AS distance
		FROM processed_documents p
		WHERE p.embedding IS NOT NULL
			AND p.embedding <=> query_embedding <= 1 - min_similarity
		ORDER BY p.embedding <=> query_embedding
		LIMIT result_limit
	) nearest
	ORDER BY distance, id
$$`;

interface Query {
  kind: "hit" | "partial" | "miss";
  owner: string;
  embedding: string;
  threshold: number;
}
type Answer = Array<{ id: string; similarity: number }>;

let t: TestDatabase;
const queries: Query[] = [];

beforeAll(async () => {
  t = await openTestDatabase();
  await seed(t.db, benchSeedOptions(DOCUMENTS));
  await t.db.execute(sql.raw(BEFORE));
  await t.db.execute(
    sql.raw(
      "GRANT EXECUTE ON FUNCTION find_similar_documents_before_0006(vector, integer, double precision) TO sensa_app, admin_role",
    ),
  );

  const random = new Random(7);
  const stored = await withAdmin(t.db, (tx) =>
    queryRows(
      tx,
      sql`SELECT user_id, embedding::text AS e FROM processed_documents ORDER BY md5(id::text) LIMIT ${3 * PER_KIND}`,
    ),
  );
  for (const [i, row] of stored.entries()) {
    const moved = random.around(JSON.parse(String(row.e)) as number[], 0.005);
    const owner = String(row.user_id);
    if (i < PER_KIND) {
      // A document "like this one": its course's documents are ~0.9 similar, so 10 reach 0.7.
      queries.push({ kind: "hit", owner, embedding: vectorLiteral(moved), threshold: 0.7 });
    } else if (i < 2 * PER_KIND) {
      // A threshold between the k-th and (k+1)-th nearest of the whole corpus: k < limit reach it.
      const embedding = vectorLiteral(moved);
      const sims = await withAdmin(t.db, async (tx) =>
        (await exact(tx, embedding, LIMIT + 1, -1)).map((r) => r.similarity),
      );
      const k = 1 + (i % (LIMIT - 1));
      queries.push({ kind: "partial", owner, embedding, threshold: (sims[k - 1]! + sims[k]!) / 2 });
    } else {
      // Nothing near: a random direction is ~0 similar to every document.
      queries.push({ kind: "miss", owner, embedding: vectorLiteral(random.unitVector()), threshold: 0.7 });
    }
  }
}, 900_000);
afterAll(() => t?.close());

const call = (tx: Transaction, fn: string, q: Query): Promise<Answer> =>
  queryRows(
    tx,
    sql`SELECT processed_document_id AS id, similarity FROM ${sql.raw(fn)}(${q.embedding}::vector, ${LIMIT}, ${q.threshold})`,
  ).then((rows) => rows.map((r) => ({ id: String(r.id), similarity: Number(r.similarity) })));

/** The exact answer (no index): every visible row above the threshold, nearest first, at most `limit`. */
async function exact(tx: Transaction, embedding: string, limit: number, threshold: number): Promise<Answer> {
  await tx.execute(sql`SET LOCAL enable_indexscan = off`);
  await tx.execute(sql`SET LOCAL enable_bitmapscan = off`);
  const rows = await queryRows(
    tx,
    sql`SELECT id, 1 - (embedding <=> ${embedding}::vector) AS similarity FROM processed_documents
        WHERE embedding IS NOT NULL AND embedding <=> ${embedding}::vector <= 1 - ${threshold}::float8
        ORDER BY embedding <=> ${embedding}::vector, id LIMIT ${limit}`,
  );
  await tx.execute(sql`RESET enable_indexscan`);
  await tx.execute(sql`RESET enable_bitmapscan`);
  return rows.map((r) => ({ id: String(r.id), similarity: Number(r.similarity) }));
}

/**
 * find_similar_documents' index scan replayed with the function's settings: of the first `rows`
 * rows the HNSW scan yields, those that reach the threshold, nearest first, at most LIMIT.
 */
async function scanned(tx: Transaction, q: Query, rows: number): Promise<Answer> {
  await tx.execute(sql`SET LOCAL hnsw.iterative_scan = relaxed_order`);
  await tx.execute(sql`SET LOCAL hnsw.ef_search = 64`);
  await tx.execute(sql`SET LOCAL enable_seqscan = off`);
  const answer = await queryRows(
    tx,
    sql`SELECT id, 1 - distance AS similarity
        FROM (SELECT p.id, p.embedding <=> ${q.embedding}::vector AS distance FROM processed_documents p
              WHERE p.embedding IS NOT NULL ORDER BY p.embedding <=> ${q.embedding}::vector LIMIT ${rows}) n
        WHERE distance <= 1 - ${q.threshold}::float8
        ORDER BY distance, id LIMIT ${LIMIT}`,
  );
  await tx.execute(sql`RESET hnsw.iterative_scan`);
  await tx.execute(sql`RESET hnsw.ef_search`);
  await tx.execute(sql`RESET enable_seqscan`);
  return answer.map((r) => ({ id: String(r.id), similarity: Number(r.similarity) }));
}

/** Rows of processed_documents this transaction has fetched through an index so far. */
const fetchedThroughIndexes = async (tx: Transaction) =>
  Number(
    (
      await queryRows(
        tx,
        sql`SELECT idx_tup_fetch AS n FROM pg_stat_xact_user_tables WHERE relid = 'processed_documents'::regclass`,
      )
    )[0]!.n,
  );

/**
 * As admin_role: every answer is the replayed scan's (the first LIMIT rows when they all reach the
 * threshold, else the nearest LIMIT above it among SCAN_ROWS), and the function read exactly that
 * many rows. Returns per kind how many first batches were short and how many answers had LIMIT rows.
 */
async function compareAdmin() {
  const tally = {
    identicalToBefore: 0,
    byKind: {
      hit: { n: 0, shortFirst: 0, full: 0, empty: 0 },
      partial: { n: 0, shortFirst: 0, full: 0, empty: 0 },
      miss: { n: 0, shortFirst: 0, full: 0, empty: 0 },
    } as Record<Query["kind"], { n: number; shortFirst: number; full: number; empty: number }>,
    readOn: [] as string[],
  };
  for (const q of queries) {
    const { after, read, first, onward, truth, before } = await withAdmin(t.db, async (tx) => {
      const start = await fetchedThroughIndexes(tx);
      const after = await call(tx, "find_similar_documents", q);
      const read = (await fetchedThroughIndexes(tx)) - start;
      return {
        after,
        read,
        first: await scanned(tx, q, LIMIT),
        onward: await scanned(tx, q, SCAN_ROWS),
        truth: await exact(tx, q.embedding, LIMIT, q.threshold),
        before: await call(tx, "find_similar_documents_before_0006", q),
      };
    });
    const k = tally.byKind[q.kind];
    k.n++;
    if (after.length === LIMIT) k.full++;
    if (after.length === 0) k.empty++;
    if (JSON.stringify(after) === JSON.stringify(before)) tally.identicalToBefore++;
    // Every returned row is above the threshold, in order (similarity descending, then id).
    for (const r of after) expect(r.similarity).toBeGreaterThanOrEqual(q.threshold - 1e-12);
    expect(after).toEqual([...after].sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1)));
    if (truth.length < LIMIT) {
      // Fewer than LIMIT rows of the corpus reach the threshold: every row is one of them.
      const truthIds = new Set(truth.map((r) => r.id));
      for (const r of after)
        expect(truthIds.has(r.id), `${q.kind} query: the row ${r.id} is in the exact answer`).toBe(true);
    }
    if (first.length === LIMIT) {
      expect(after, `${q.kind} query: the first ${LIMIT} rows all reach the threshold: they are the answer`).toEqual(
        first,
      );
      expect(read, `${q.kind} query: a full first batch is all the function reads`).toBe(LIMIT);
    } else {
      k.shortFirst++;
      expect(after, `${q.kind} query: a short first batch: the nearest of the first ${SCAN_ROWS} rows`).toEqual(onward);
      expect(read, `${q.kind} query: a short first batch: the function reads on to ${SCAN_ROWS} rows`).toBe(SCAN_ROWS);
      if (onward.length > first.length)
        tally.readOn.push(
          `${q.kind}: first batch ${first.length} rows, read on ${onward.length}, exact ${truth.length}`,
        );
    }
  }
  const kinds = Object.entries(tally.byKind)
    .map(([kind, c]) => `${kind}: ${c.full} full, ${c.empty} empty, ${c.shortFirst} short first batches of ${c.n}`)
    .join("; ");
  console.log(
    `admin_role: ${kinds}; identical to the pre-0006 function in ${tally.identicalToBefore} of ${queries.length}` +
      (tally.readOn.length ? `; reading on found more: ${tally.readOn.join("; ")}` : ""),
  );
  return tally;
}

/** As each document's owner (row-level security): the new answers against the pre-0006 function's. */
async function compareUser() {
  const tally = {
    identical: 0,
    differing: [] as string[],
    byKind: { hit: [0, 0], partial: [0, 0], miss: [0, 0] } as Record<Query["kind"], [number, number]>,
  };
  for (const q of queries) {
    const [before, after, truth] = await withUserContext(t.db, q.owner, async (tx) => [
      await call(tx, "find_similar_documents_before_0006", q),
      await call(tx, "find_similar_documents", q),
      await exact(tx, q.embedding, LIMIT, q.threshold),
    ]);
    const truthIds = new Set(truth.map((r) => r.id));
    tally.byKind[q.kind][1]++;
    // Every returned row is above the threshold, in order (similarity descending, then id).
    for (const r of after) expect(r.similarity).toBeGreaterThanOrEqual(q.threshold - 1e-12);
    expect(after).toEqual([...after].sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1)));
    if (before.length === LIMIT) {
      expect(after, `${q.kind} query: a hit is unchanged`).toEqual(before);
    } else {
      // The new rows are old rows, with the same similarity, in the old order ...
      expect(after, `${q.kind} query: the new answer is part of the old`).toEqual(
        before.filter((r) => after.some((a) => a.id === r.id)),
      );
      // ... and whatever the old scan found besides is a true answer that HNSW's first candidates missed.
      for (const r of before)
        expect(truthIds.has(r.id), `${q.kind} query: the old row ${r.id} is in the exact answer`).toBe(true);
      for (const r of after)
        expect(truthIds.has(r.id), `${q.kind} query: the new row ${r.id} is in the exact answer`).toBe(true);
    }
    if (JSON.stringify(after) === JSON.stringify(before)) {
      tally.identical++;
      tally.byKind[q.kind][0]++;
    } else {
      tally.differing.push(`${q.kind}: old ${before.length} rows, new ${after.length}, exact ${truth.length}`);
    }
  }
  const kinds = Object.entries(tally.byKind)
    .map(([k, [same, n]]) => `${k} ${same}/${n}`)
    .join(", ");
  console.log(
    `user: identical in ${tally.identical} of ${queries.length} (${kinds})${tally.differing.length ? `; differing: ${tally.differing.join("; ")}` : ""}`,
  );
  return tally;
}

describe(`find_similar_documents: the threshold outside the LIMIT (${DOCUMENTS.toLocaleString("en-US")} seeded documents)`, () => {
  it("has queries of every kind: hits (limit rows reach the threshold), partial answers and misses", async () => {
    const counts = await withAdmin(t.db, async (tx) => {
      const n = { hit: 0, partial: 0, miss: 0 };
      for (const q of queries) {
        const rows = (await exact(tx, q.embedding, LIMIT, q.threshold)).length;
        n[rows === LIMIT ? "hit" : rows === 0 ? "miss" : "partial"]++;
      }
      return n;
    });
    expect(counts).toEqual({ hit: PER_KIND, partial: PER_KIND, miss: PER_KIND });
  });

  it("as admin_role (the whole corpus, through HNSW): the first batch when it is full, else the scan read on to SCAN_ROWS rows; misses are empty", async () => {
    const { byKind } = await compareAdmin();
    // Every partial answer and miss has a short first batch by construction (fewer than LIMIT rows
    // of the corpus reach the threshold), so each of them checked above that the function read on.
    expect(byKind.partial.shortFirst).toBe(PER_KIND);
    expect(byKind.miss.shortFirst).toBe(PER_KIND);
    expect(byKind.miss.empty).toBe(PER_KIND);
    // Hits: a first batch astray is rare (0 to 27 of 5,000 self-queries per build of this graph) and
    // reading on to 192 rows recovered every one measured (90 of 90 over 23 builds).
    expect(byKind.hit.n - byKind.hit.full, "hits with fewer than LIMIT rows").toBeLessThanOrEqual(1);
  }, 600_000);

  it("as the documents' owners (row-level security): every answer is identical", async () => {
    // A user's 100 documents are read through the user_id index and sorted exactly, so there is
    // no approximation to differ by.
    const { identical } = await compareUser();
    expect(identical).toBe(queries.length);
  }, 600_000);

  it("keeps the signature: (vector, integer, double precision) and its defaults", async () => {
    const [fn] = await queryRows(
      t.db,
      sql`SELECT pg_get_function_arguments('find_similar_documents(vector, integer, double precision)'::regprocedure) AS args`,
    );
    expect(fn!.args).toBe(
      "query_embedding vector, result_limit integer DEFAULT 10, min_similarity double precision DEFAULT 0.7",
    );
  });
});

describe("find_similar_keywords: a chapter's keywords are read through its index, not by filtering the HNSW scan", () => {
  it("with a chapter, answers exactly (every keyword of the chapter, nearest first), as admin_role and as the owner", async () => {
    const chapters = await withAdmin(t.db, (tx) =>
      queryRows(
        tx,
        sql`SELECT k.chapter_id, k.user_id, k.embedding::text AS e FROM keywords k WHERE k.embedding IS NOT NULL ORDER BY md5(k.id::text) LIMIT 30`,
      ),
    );
    for (const c of chapters) {
      const q = String(c.e);
      const check = async (tx: Transaction) => {
        const got = await queryRows(
          tx,
          sql`SELECT keyword_id AS id, similarity FROM find_similar_keywords(${q}::vector, ${String(c.chapter_id)}::uuid, 20)`,
        );
        const want = await queryRows(
          tx,
          sql`SELECT id, 1 - (embedding <=> ${q}::vector) AS similarity FROM keywords WHERE chapter_id = ${String(c.chapter_id)}::uuid AND embedding IS NOT NULL ORDER BY embedding <=> ${q}::vector, id LIMIT 20`,
        );
        expect(got.map((r) => [String(r.id), Number(r.similarity)])).toEqual(
          want.map((r) => [String(r.id), Number(r.similarity)]),
        );
        expect(got.length).toBeGreaterThan(0);
      };
      await withAdmin(t.db, check);
      await withUserContext(t.db, String(c.user_id), check);
    }
  });

  it("without a chapter, searches every visible keyword through HNSW: `limit` rows, nearest first", async () => {
    const [k] = await withAdmin(t.db, (tx) =>
      queryRows(tx, sql`SELECT embedding::text AS e FROM keywords WHERE embedding IS NOT NULL LIMIT 1`),
    );
    const rows = await withAdmin(t.db, (tx) =>
      queryRows(tx, sql`SELECT similarity FROM find_similar_keywords(${String(k!.e)}::vector, NULL, 20)`),
    );
    expect(rows).toHaveLength(20);
    const sims = rows.map((r) => Number(r.similarity));
    expect(sims).toEqual([...sims].sort((a, b) => b - a));
    expect(sims[0]).toBeCloseTo(1, 5);
  });
});
