import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  UniqueViolationError,
  ValidationError,
  withAdmin,
  withUserContext,
  findSimilarDocuments,
} from "../src/index.js";
import { users } from "../src/schema/index.js";
import { queryRows } from "../src/db/query.js";
import { catalogSnapshot } from "../src/migrations/catalog.js";
import { graphMemoryMB, seed } from "../src/seed/index.js";
import { generateUsers } from "../src/seed/generate.js";
import { planSeed } from "../src/seed/plan.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

const GENERATED_ID = ["user_profiles", "relationships", "user_annotations", "user_progress"];
/** Every seeded row as text, without the columns the server fills in at insert time (timestamps). */
const seededRows = () =>
  withAdmin(t.db, (tx) =>
    queryRows(
      tx,
      sql.raw(
        [
          "users",
          "user_profiles",
          "courses",
          "course_documents",
          "processed_documents",
          "chapters",
          "keywords",
          "relationships",
          "user_annotations",
          "user_progress",
        ]
          // ids the server generates (uuid_generate_v4) differ between loads; the seed's own ids do not.
          .map(
            (table) =>
              `SELECT '${table}' AS t, (SELECT json_agg(j ORDER BY j::text) FROM (SELECT to_jsonb(x) - '${GENERATED_ID.includes(table) ? "id" : "-"}' - 'created_at' - 'updated_at' - 'processing_started_at' - 'processing_completed_at' - 'last_accessed_at' - 'completed_at' AS j FROM ${table} x) s)::text AS rows`,
          )
          .join(" UNION ALL "),
      ),
    ),
  );

/** The HNSW indexes and whether each is valid and ready. */
const vectorIndexes = () =>
  queryRows(
    t.db,
    sql`SELECT c.relname AS name, x.indisvalid AND x.indisready AS valid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'hnsw' ORDER BY 1`,
  );

const counts = () =>
  withAdmin(t.db, (tx) =>
    queryRows(
      tx,
      sql`SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM keywords) AS keywords, (SELECT count(*)::int FROM relationships) AS relationships`,
    ),
  );

describe("seed", () => {
  it("writes exactly the rows it plans, per table, and keeps the schema (deferred HNSW indexes rebuilt as defined)", async () => {
    const before = await catalogSnapshot(t.db);
    const result = await seed(t.db, {
      seed: 1,
      users: 3,
      chaptersPerDocument: 2,
      keywordsPerChapter: 5,
      deferIndexes: true,
    });
    const live = await withAdmin(t.db, (tx) =>
      queryRows(
        tx,
        sql.raw(
          Object.keys(result.rows)
            .map((table) => `SELECT '${table}' AS t, count(*)::int AS n FROM ${table}`)
            .join(" UNION ALL "),
        ),
      ),
    );
    expect(Object.fromEntries(live.map((r) => [r.t, r.n]))).toEqual(result.rows);
    expect(result.rows).toMatchObject({
      users: 3,
      courses: 6,
      course_documents: 18,
      chapters: 36,
      keywords: 180,
      relationships: 144,
    });
    expect(await catalogSnapshot(t.db)).toEqual(before);
  });

  it("is deterministic: the same seed generates the same data", () => {
    const first = [...generateUsers(planSeed({ seed: 7, users: 2 }))];
    const second = [...generateUsers(planSeed({ seed: 7, users: 2 }))];
    const other = [...generateUsers(planSeed({ seed: 8, users: 2 }))];
    expect(second).toEqual(first);
    expect(other[0]!.users[0]!.id).not.toBe(first[0]!.users[0]!.id);
  });

  it("generates, for a given seed, the same data set on every run and machine (a pinned digest)", () => {
    // Anything that changes the generator's output changes every benchmark's data: say so, and re-pin.
    // Last changed when the embeddings' normals went from Box-Muller to the ziggurat (src/seed/ziggurat.ts).
    const digest = createHash("sha256");
    for (const batch of generateUsers(planSeed({ seed: 7, users: 3 }))) digest.update(JSON.stringify(batch));
    expect(digest.digest("hex")).toBe("2a8b99d6a0f7a6c19bb86372e531d4c3f5e14347f42857342a49a284a46bb10c");
  });

  it("draws embeddings around subject centres, so a document's nearest neighbours share its subject", async () => {
    const { userIds } = await seed(t.db, { seed: 2, users: 1, coursesPerUser: 6, documentsPerCourse: 4 });
    const [doc] = await withUserContext(t.db, userIds[0]!, (tx) =>
      queryRows(
        tx,
        sql`SELECT p.embedding::text AS e, c.subject FROM processed_documents p JOIN courses c ON c.id = p.course_id LIMIT 1`,
      ),
    );
    const near = await withUserContext(t.db, userIds[0]!, (tx) =>
      findSimilarDocuments(tx, { embedding: JSON.parse(String(doc!.e)), limit: 4 }),
    );
    const subjects = await withUserContext(t.db, userIds[0]!, (tx) =>
      queryRows(tx, sql`SELECT DISTINCT subject FROM courses WHERE id IN ${near.map((n) => n.courseId)}`),
    );
    expect(subjects).toEqual([{ subject: doc!.subject }]);
  });

  it("loads through binary COPY on a server, as the tables' owner (with or without its triggers, keys and indexes suspended), and through INSERTs on PGlite: the same rows every way", async () => {
    await withAdmin(t.db, (tx) => tx.delete(users));
    const first = await seed(t.db, { seed: 11, users: 2, chaptersPerDocument: 2, keywordsPerChapter: 3 });
    expect(first.loader).toBe(t.kind === "server" ? "copy" : "insert");
    expect(first.load.restore).toBeNull(); // a small load: nothing suspended
    const copied = await seededRows();
    await withAdmin(t.db, (tx) => tx.delete(users));
    const bulk = await seed(t.db, {
      seed: 11,
      users: 2,
      chaptersPerDocument: 2,
      keywordsPerChapter: 3,
      deferIndexes: true,
    });
    expect(bulk.load.restore === null).toBe(t.kind === "embedded");
    const bulkRows = await seededRows();
    for (const table of copied)
      expect(bulkRows.find((r) => r.t === table.t)!.rows === table.rows, `${table.t} differs`).toBe(true);
    await withAdmin(t.db, (tx) => tx.delete(users));
    const second = await seed(t.db, {
      seed: 11,
      users: 2,
      chaptersPerDocument: 2,
      keywordsPerChapter: 3,
      loader: "insert",
    });
    expect(second.loader).toBe("insert");
    const inserted = await seededRows();
    for (const table of copied)
      expect(inserted.find((r) => r.t === table.t)!.rows === table.rows, `${table.t} differs`).toBe(true);
    expect(copied.find((r) => r.t === "processed_documents")!.rows).toMatch(/"embedding": "\[/);
  });

  it("commits whole or not at all: a seed that fails part-way leaves no row of it, and the schema with every HNSW index", async () => {
    const before = await catalogSnapshot(t.db);
    const indexes = await vectorIndexes();
    expect(indexes).toEqual([
      { name: "chapters_embedding_idx", valid: true },
      { name: "keywords_embedding_idx", valid: true },
      { name: "processed_documents_embedding_idx", valid: true },
    ]);
    // The third user the seed generates collides with one already there, after the indexes were dropped.
    await withAdmin(t.db, (tx) => tx.insert(users).values({ cognitoSub: "seed-77-2", email: "taken@example.com" }));
    const rowsBefore = await counts();
    await expect(seed(t.db, { seed: 77, users: 3, deferIndexes: true })).rejects.toBeInstanceOf(UniqueViolationError);
    expect(await counts()).toEqual(rowsBefore);
    expect(await vectorIndexes()).toEqual(indexes);
    expect(await catalogSnapshot(t.db)).toEqual(before);
  });

  it("reports its phases: rows per table and their rate, the load end to end, and the HNSW rebuild per 100k embeddings with its settings", async () => {
    const result = await seed(t.db, {
      seed: 3,
      users: 2,
      chaptersPerDocument: 2,
      keywordsPerChapter: 4,
      deferIndexes: true,
    });
    expect(Object.fromEntries(Object.entries(result.tables).map(([name, table]) => [name, table.rows]))).toEqual(
      result.rows,
    );
    for (const table of Object.values(result.tables)) expect(table.rowsPerSecond).toBeGreaterThan(0);
    expect(result.load.rowsPerSecond).toBeCloseTo(result.totalRows / result.load.seconds);
    const embeddings = result.rows.processed_documents + result.rows.chapters + result.rows.keywords;
    // A few hundred embeddings need no more than the 64MB floor; a server builds with 2 workers, PGlite has none.
    expect(result.index).toMatchObject({
      settings: { maintenanceWorkMem: "64MB", parallelWorkers: t.kind === "server" ? 2 : 0 },
    });
    // The indexes cover the earlier tests' rows too.
    expect(result.index!.embeddings).toBeGreaterThanOrEqual(embeddings);
    expect(result.index!.indexes.map((i) => i.name)).toEqual([
      "chapters_embedding_idx",
      "keywords_embedding_idx",
      "processed_documents_embedding_idx",
    ]);
    expect(result.index!.secondsPer100k).toBeCloseTo(result.indexSeconds / (result.index!.embeddings / 100_000));
  });

  it("sizes maintenance_work_mem for the HNSW rebuild to the graph: 1GB for 100k 768-dim embeddings, 2GB for 300k, PGlite at most 512MB", () => {
    expect(graphMemoryMB(100, 768, "server")).toBe(64);
    expect(graphMemoryMB(20_000, 768, "server")).toBe(128);
    expect(graphMemoryMB(100_000, 768, "server")).toBe(1024);
    expect(graphMemoryMB(300_000, 768, "server")).toBe(2048);
    expect(graphMemoryMB(10_000_000, 768, "server")).toBe(4096);
    expect(graphMemoryMB(300_000, 768, "embedded")).toBe(512);
  });

  it("rejects bad options with a ValidationError before writing anything", async () => {
    const before = await counts();
    await expect(seed(t.db, { users: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(seed(t.db, { progress: 1.5 })).rejects.toBeInstanceOf(ValidationError);
    expect(await counts()).toEqual(before);
  });
});
