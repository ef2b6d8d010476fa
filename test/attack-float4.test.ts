import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { findSimilarDocuments, findSimilarKeywords, ValidationError, withUserContext } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { createUser, embeddingAlong } from "./support/fixtures.js";

// pgvector stores float4. A JS number can be finite and still past float4's range
// (|x| > 3.4028234663852886e38): the wrappers' "768 finite numbers" check lets it through, and the
// server refuses it (binary: "infinite value not allowed in vector", 22000; PGlite's text:
// "out of range for type vector", 22003), aborting the caller's transaction.

let t: TestDatabase;
let userId: string;
beforeAll(async () => {
  t = await openTestDatabase();
  userId = (await createUser(t.db)).id;
}, 120_000);
afterAll(() => t?.close());

it.each([1e39, -1e39, 3.5e38])(
  "an embedding value of %d, past float4's range, is a ValidationError before any SQL",
  async (v) => {
    const embedding = [v, ...embeddingAlong(0).slice(1)];
    const { documents, keywords, after } = await withUserContext(t.db, userId, async (tx) => {
      const documents = await findSimilarDocuments(tx, { embedding }).catch((e: unknown) => e);
      const keywords = await findSimilarKeywords(tx, { embedding }).catch((e: unknown) => e);
      const after = await queryRows(tx, sql`SELECT 1 AS ok`);
      return { documents, keywords, after };
    });
    expect(documents).toBeInstanceOf(ValidationError);
    expect(keywords).toBeInstanceOf(ValidationError);
    expect(after).toEqual([{ ok: 1 }]);
  },
);

it("float4's largest value itself is accepted", async () => {
  const embedding = [3.4028234663852886e38, ...embeddingAlong(0).slice(1)];
  await expect(withUserContext(t.db, userId, (tx) => findSimilarDocuments(tx, { embedding }))).resolves.toEqual([]);
});
