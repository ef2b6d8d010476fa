import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findSimilarDocuments,
  findSimilarKeywords,
  getCourseStats,
  getUserLearningStats,
  getUserProgressSummary,
  searchCourses,
  searchKeywords,
  ValidationError,
  withUserContext,
  type Queryable,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser, embeddingAlong } from "./support/fixtures.js";

let t: TestDatabase;
let userId: string;
let courseId: string;
beforeAll(async () => {
  t = await openTestDatabase();
  userId = (await createUser(t.db)).id;
  courseId = (await createCourseTree(t.db, userId)).course.id;
  await createCourseTree(t.db, userId, { title: "Medieval History" });
});
afterAll(() => t?.close());

const good = embeddingAlong(0);
const uuid = "4b0f2a1e-9c7d-4e8a-b6f5-3d2c1b0a9f8e";

// [wrapper, bad input, the field the error must name]
const badInputs: Array<[string, (db: Queryable) => Promise<unknown>, string]> = [
  [
    "findSimilarDocuments with 767 dimensions",
    (db) => findSimilarDocuments(db, { embedding: good.slice(1) }),
    "embedding",
  ],
  [
    "findSimilarDocuments with a NaN",
    (db) => findSimilarDocuments(db, { embedding: [NaN, ...good.slice(1)] }),
    "embedding.0",
  ],
  [
    "findSimilarDocuments with Infinity",
    (db) => findSimilarDocuments(db, { embedding: [...good.slice(1), Infinity] }),
    "embedding.767",
  ],
  [
    "findSimilarDocuments with a limit of 10,000",
    (db) => findSimilarDocuments(db, { embedding: good, limit: 10_000 }),
    "limit",
  ],
  ["findSimilarDocuments with a limit of 0", (db) => findSimilarDocuments(db, { embedding: good, limit: 0 }), "limit"],
  [
    "findSimilarDocuments with a threshold of 1.5",
    (db) => findSimilarDocuments(db, { embedding: good, threshold: 1.5 }),
    "threshold",
  ],
  [
    "findSimilarKeywords with a non-UUID chapter",
    (db) => findSimilarKeywords(db, { embedding: good, chapterId: "chapter-1" }),
    "chapterId",
  ],
  [
    "findSimilarKeywords with a fractional limit",
    (db) => findSimilarKeywords(db, { embedding: good, limit: 2.5 }),
    "limit",
  ],
  ["searchCourses with an empty query", (db) => searchCourses(db, { userId, query: "   " }), "query"],
  ["searchCourses with a non-UUID user", (db) => searchCourses(db, { userId: "1 OR 1=1", query: "x" }), "userId"],
  [
    "searchKeywords with a limit of 10,000",
    (db) => searchKeywords(db, { courseId: uuid, query: "x", limit: 10_000 }),
    "limit",
  ],
  ["getCourseStats with a non-UUID", (db) => getCourseStats(db, { courseId: "'; DROP TABLE courses; --" }), "courseId"],
  [
    "getUserProgressSummary with a non-UUID user",
    (db) => getUserProgressSummary(db, { userId: "x", courseId: uuid }),
    "userId",
  ],
  [
    "getUserLearningStats with a number",
    (db) => getUserLearningStats(db, { userId: 42 as unknown as string }),
    "userId",
  ],
];

describe("bad input", () => {
  it.each(badInputs)("%s throws a ValidationError naming the field, before any SQL runs", async (_, call, field) => {
    // Inside an aborted transaction any SQL would fail with a PostgreSQL error; a
    // ValidationError therefore proves the wrapper refused before sending anything.
    const error = await withUserContext(t.db, userId, async (tx) => {
      await tx.execute(sql`SELECT 1/0`).catch(() => undefined);
      // A rejection ends the context with a ROLLBACK and reaches the caller unchanged.
      return call(tx);
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("VALIDATION_FAILED");
    expect((error as ValidationError).issues.map((i) => i.path)).toContain(field);
  });

  it("SQL metacharacters in a search query are just text: a correct empty result, nothing changed", async () => {
    const before = await withUserContext(t.db, userId, (tx) => queryRows(tx, sql`SELECT count(*) AS n FROM courses`));
    for (const query of ["'; DROP TABLE courses; --", "%", "_", "\\", "$$", "' OR '1'='1"]) {
      const found = await withUserContext(t.db, userId, (tx) => searchCourses(tx, { userId, query }));
      expect(found, query).toEqual([]);
      expect(await withUserContext(t.db, userId, (tx) => searchKeywords(tx, { courseId, query })), query).toEqual([]);
    }
    expect(await withUserContext(t.db, userId, (tx) => queryRows(tx, sql`SELECT count(*) AS n FROM courses`))).toEqual(
      before,
    );
    // An injection would return every course; text search returns the one that matches.
    const injected = await withUserContext(t.db, userId, (tx) =>
      searchCourses(tx, { userId, query: "biology' OR '1'='1" }),
    );
    expect(injected.map((c) => c.title)).toEqual(["Cell Biology"]);
  });

  it("accepts the limits' edges: 1 and 1000", async () => {
    // The user has two documents: limit 1 returns one, limit 1000 both.
    for (const [limit, expected] of [
      [1, 1],
      [1000, 2],
    ] as const) {
      await expect(
        withUserContext(t.db, userId, (tx) => findSimilarDocuments(tx, { embedding: good, limit, threshold: 0 })),
      ).resolves.toHaveLength(expected);
    }
  });
});
