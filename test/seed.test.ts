import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError, withAdmin, withUserContext, findSimilarDocuments } from "../src/index.js";
import { queryRows } from "../src/functions/rows.js";
import { catalogSnapshot } from "../src/migrations/catalog.js";
import { seed } from "../src/seed/index.js";
import { generateUsers } from "../src/seed/generate.js";
import { planSeed } from "../src/seed/plan.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

const counts = () =>
  withAdmin(t.db, (tx) =>
    queryRows(tx, sql`SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM keywords) AS keywords, (SELECT count(*)::int FROM relationships) AS relationships`),
  );

describe("seed", () => {
  it("writes exactly the rows it plans, per table, and keeps the schema (deferred HNSW indexes rebuilt as defined)", async () => {
    const before = await catalogSnapshot(t.db);
    const result = await seed(t.db, { seed: 1, users: 3, chaptersPerDocument: 2, keywordsPerChapter: 5, deferIndexes: true });
    const live = await withAdmin(t.db, (tx) =>
      queryRows(tx, sql.raw(Object.keys(result.rows).map((table) => `SELECT '${table}' AS t, count(*)::int AS n FROM ${table}`).join(" UNION ALL "))),
    );
    expect(Object.fromEntries(live.map((r) => [r.t, r.n]))).toEqual(result.rows);
    expect(result.rows).toMatchObject({ users: 3, courses: 6, course_documents: 18, chapters: 36, keywords: 180, relationships: 144 });
    expect(await catalogSnapshot(t.db)).toEqual(before);
  });

  it("is deterministic: the same seed generates the same data", () => {
    const first = [...generateUsers(planSeed({ seed: 7, users: 2 }))];
    const second = [...generateUsers(planSeed({ seed: 7, users: 2 }))];
    const other = [...generateUsers(planSeed({ seed: 8, users: 2 }))];
    expect(second).toEqual(first);
    expect(other[0]!.users[0]!.id).not.toBe(first[0]!.users[0]!.id);
  });

  it("draws embeddings around subject centres, so a document's nearest neighbours share its subject", async () => {
    const { userIds } = await seed(t.db, { seed: 2, users: 1, coursesPerUser: 6, documentsPerCourse: 4 });
    const [doc] = await withUserContext(t.db, userIds[0]!, (tx) =>
      queryRows(tx, sql`SELECT p.embedding::text AS e, c.subject FROM processed_documents p JOIN courses c ON c.id = p.course_id LIMIT 1`),
    );
    const near = await withUserContext(t.db, userIds[0]!, (tx) => findSimilarDocuments(tx, { embedding: JSON.parse(String(doc!.e)), limit: 4 }));
    const subjects = await withUserContext(t.db, userIds[0]!, (tx) =>
      queryRows(tx, sql`SELECT DISTINCT subject FROM courses WHERE id IN ${near.map((n) => n.courseId)}`),
    );
    expect(subjects).toEqual([{ subject: doc!.subject }]);
  });

  it("rejects bad options with a ValidationError before writing anything", async () => {
    const before = await counts();
    await expect(seed(t.db, { users: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(seed(t.db, { progress: 1.5 })).rejects.toBeInstanceOf(ValidationError);
    expect(await counts()).toEqual(before);
  });
});
