import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  closeDb,
  ContextClosedError,
  createDb,
  findSimilarDocuments,
  findSimilarKeywords,
  withUserContext,
  type Database,
  type Transaction,
} from "../src/index.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { cosine, createCourseTree, createUser, embeddingAlong } from "./support/fixtures.js";
import { APP_LOGIN, urlFor } from "./support/server.js";

// The vector wrappers send their embedding as a binary parameter (vector_recv) on node-postgres.
// Behind pgbouncer in transaction mode, Parse/Bind/Execute of one client interleave with other
// clients' on a handful of server connections: the binary parameter must still arrive as the same
// vector, and each request still see only its own user's rows.
// Runs when the harness routes test databases through a pooler (TEST_POOLER_URL, as .ci/run does
// with the pgbouncer of .ci/replica-and-pooler.sh): then the app login's url goes through it.
const unavailable = !inject("testServer")
  ? "needs a PostgreSQL server: PGlite has no pooler and takes text parameters"
  : !process.env.TEST_POOLER_URL
    ? "needs TEST_POOLER_URL (pgbouncer in transaction mode, .ci/replica-and-pooler.sh)"
    : undefined;

let t: TestDatabase;
let pooled: Database;
let direct: Database;
const users: Array<{ id: string; embedding: number[] }> = [];

describe.skipIf(unavailable)(
  `binary vector parameters behind pgbouncer in transaction mode${unavailable ? ` (skipped: ${unavailable})` : ""}`,
  () => {
    beforeAll(async () => {
      t = await openTestDatabase();
      const name = new URL(t.url!).pathname.slice(1);
      for (let i = 0; i < 8; i++) {
        const id = (await createUser(t.db)).id;
        // each user's document points a different way, with values no float4 holds exactly
        const embedding = embeddingAlong(i, { axis: 100 + i, amount: 0.1 + i / 30 }).map((x, j) => x + (j % 7) * 1e-3);
        await createCourseTree(t.db, id, { embedding, chapterCount: 1 });
        users.push({ id, embedding });
      }
      pooled = createDb({ url: t.appUrl!, pool: { max: 40 } });
      direct = createDb({ url: urlFor(inject("testServer")!.adminUrl, name, APP_LOGIN), pool: { max: 2 } });
    }, 300_000);
    afterAll(async () => {
      if (pooled) await closeDb(pooled);
      if (direct) await closeDb(direct);
      await t?.close();
    });

    it("goes through the pooler", () => {
      expect(new URL(t.appUrl!).port).toBe(new URL(process.env.TEST_POOLER_URL!).port);
    });

    it("400 concurrent searches of 8 users through 4 server connections: each gets exactly what a direct connection gives, and only its own document", async () => {
      const query = (n: number) => embeddingAlong(n % 8, { axis: 200, amount: 0.05 * (n % 5) });
      const expected = await Promise.all(
        users.map((u, i) =>
          withUserContext(direct, u.id, (tx) =>
            findSimilarDocuments(tx, { embedding: query(i), threshold: 0, limit: 50 }),
          ),
        ),
      );
      for (const [i, rows] of expected.entries()) {
        expect(rows).toHaveLength(1);
        expect(rows[0]!.similarity).toBeCloseTo(cosine(users[i]!.embedding, query(i)), 5);
      }
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, n) =>
          withUserContext(pooled, users[n % 8]!.id, (tx) =>
            findSimilarDocuments(tx, { embedding: query(n % 8), threshold: 0, limit: 50 }),
          ).then((rows) => ({ n, rows })),
        ),
      );
      const wrong = results.filter(({ n, rows }) => JSON.stringify(rows) !== JSON.stringify(expected[n % 8]));
      expect(wrong.map(({ n }) => n)).toEqual([]);
    });

    it("a search kept past its context behind pgbouncer is refused before it reaches the pooler", async () => {
      let kept: Transaction | undefined;
      await withUserContext(pooled, users[0]!.id, async (tx) => {
        kept = tx;
      });
      await expect(findSimilarKeywords(kept!, { embedding: users[0]!.embedding })).rejects.toBeInstanceOf(
        ContextClosedError,
      );
    });
  },
);
