import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chapters,
  closeDb,
  createDb,
  courseDocuments,
  courses,
  findSimilarDocuments,
  findSimilarKeywords,
  getCourseStats,
  getUserLearningStats,
  getUserProgressSummary,
  keywords,
  processedDocuments,
  relationships,
  searchCourses,
  searchKeywords,
  userAnnotations,
  userProgress,
  withAdmin,
  withUserContext,
  type Transaction,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { cosine, createUser, embeddingAlong } from "./support/fixtures.js";

// A small hand-made data set whose answers are known, checked through the typed wrappers and,
// for the spec's positional calls, through plain SQL.
let t: TestDatabase;
let userId: string;
const ids = {} as Record<string, string>;
const query = embeddingAlong(0);
// Documents at known angles from the query: similarities 1, ~0.894, ~0.707, ~0.447, 0.
const documentTilts = [
  { title: "Exactly", axis: 0, tilt: undefined },
  { title: "Close", axis: 0, tilt: { axis: 5, amount: 0.5 } },
  { title: "Diagonal", axis: 0, tilt: { axis: 5, amount: 1 } },
  { title: "Far", axis: 5, tilt: { axis: 0, amount: 0.5 } },
  { title: "Orthogonal", axis: 5, tilt: undefined },
];

beforeAll(async () => {
  t = await openTestDatabase();
  userId = (await createUser(t.db)).id;
  await withAdmin(t.db, async (tx) => {
    const [bio] = await tx
      .insert(courses)
      .values({ userId, title: "Introduction to Biology", description: "Cells, genes and evolution" })
      .returning();
    await tx.insert(courses).values({ userId, title: "Organic Chemistry", description: "Carbon compounds" });
    await tx.insert(courses).values({ userId, title: "Medieval History" });
    ids.course = bio!.id;
    const processedIds: string[] = [];
    for (const [i, d] of documentTilts.entries()) {
      const [doc] = await tx
        .insert(courseDocuments)
        .values({ courseId: bio!.id, fileName: `${d.title}.pdf`, s3Key: `k/${userId}/${i}` })
        .returning();
      const [p] = await tx
        .insert(processedDocuments)
        .values({ documentId: doc!.id, title: d.title, embedding: embeddingAlong(d.axis, d.tilt) })
        .returning();
      processedIds.push(p!.id);
    }
    // Two documents done, one failed; three chapters in the first.
    const docs = await tx
      .select()
      .from(courseDocuments)
      .where(sql`course_id = ${bio!.id}`)
      .orderBy(courseDocuments.fileName);
    for (const d of docs.slice(0, 3))
      await tx
        .update(courseDocuments)
        .set({ processingStatus: "processing" })
        .where(sql`id = ${d.id}`);
    for (const d of docs.slice(0, 2))
      await tx
        .update(courseDocuments)
        .set({ processingStatus: "completed" })
        .where(sql`id = ${d.id}`);
    await tx
      .update(courseDocuments)
      .set({ processingStatus: "failed", processingError: "OCR failed" })
      .where(sql`id = ${docs[2]!.id}`);
    const chapterRows = [];
    for (let n = 1; n <= 3; n++) {
      const [c] = await tx
        .insert(chapters)
        .values({ processedDocumentId: processedIds[0]!, chapterNumber: n, title: `Chapter ${n}` })
        .returning();
      chapterRows.push(c!);
    }
    ids.chapter1 = chapterRows[0]!.id;
    ids.chapter2 = chapterRows[1]!.id;
    const terms = [
      ["mitochondria", chapterRows[0]!, embeddingAlong(1)],
      ["mitosis", chapterRows[0]!, embeddingAlong(1, { axis: 2, amount: 1 })],
      ["ribosome", chapterRows[0]!, embeddingAlong(2)],
      ["chloroplast", chapterRows[1]!, embeddingAlong(1, { axis: 3, amount: 0.2 })],
    ] as const;
    const kw: string[] = [];
    for (const [term, chapter, embedding] of terms) {
      const [k] = await tx.insert(keywords).values({ chapterId: chapter.id, term, embedding }).returning();
      kw.push(k!.id);
    }
    await tx
      .insert(relationships)
      .values({ sourceKeywordId: kw[0]!, targetKeywordId: kw[1]!, relationshipType: "related_to" });
    // Progress: chapter 1 done (600 s), chapter 2 half (300 s), chapter 3 never opened.
    await tx
      .insert(userProgress)
      .values({ userId, chapterId: chapterRows[0]!.id, completionPercentage: 100, timeSpentSeconds: 600 });
    await tx
      .insert(userProgress)
      .values({ userId, chapterId: chapterRows[1]!.id, completionPercentage: 50, timeSpentSeconds: 300 });
    await tx
      .insert(userAnnotations)
      .values({ userId, chapterId: chapterRows[0]!.id, feedbackType: "general", rating: 5 });
  });
});
afterAll(() => t?.close());

const asUser = <T>(fn: (tx: Transaction) => Promise<T>) => withUserContext(t.db, userId, fn);

describe("find_similar_documents", () => {
  it("returns nearest neighbours in order, with similarity = 1 - cosine distance", async () => {
    const found = await asUser((tx) => findSimilarDocuments(tx, { embedding: query, threshold: 0 }));
    expect(found.map((d) => d.title)).toEqual(["Exactly", "Close", "Diagonal", "Far", "Orthogonal"]);
    found.forEach((d, i) => {
      const { axis, tilt } = documentTilts[i]!;
      expect(d.similarity).toBeCloseTo(cosine(query, embeddingAlong(axis, tilt)), 5);
    });
  });

  it("keeps only documents at least `threshold` similar (default 0.7)", async () => {
    const found = await asUser((tx) => findSimilarDocuments(tx, { embedding: query }));
    expect(found.map((d) => d.title)).toEqual(["Exactly", "Close", "Diagonal"]);
  });

  it("returns at most `limit` rows", async () => {
    expect(await asUser((tx) => findSimilarDocuments(tx, { embedding: query, limit: 2, threshold: 0 }))).toHaveLength(
      2,
    );
  });

  it("works positionally from SQL, as in the spec", async () => {
    const rows = await asUser((tx) =>
      queryRows(tx, sql.raw(`SELECT title FROM find_similar_documents('[${query.join(",")}]', 10, 0.7)`)),
    );
    expect(rows.map((r) => r.title)).toEqual(["Exactly", "Close", "Diagonal"]);
  });
});

describe("find_similar_keywords", () => {
  it("ranks a chapter's keywords by similarity", async () => {
    const found = await asUser((tx) =>
      findSimilarKeywords(tx, { embedding: embeddingAlong(1), chapterId: ids.chapter1 }),
    );
    expect(found.map((k) => k.term)).toEqual(["mitochondria", "mitosis", "ribosome"]);
    expect(found[0]!.similarity).toBeCloseTo(1, 6);
  });

  it("searches every chapter when no chapter is given", async () => {
    const found = await asUser((tx) => findSimilarKeywords(tx, { embedding: embeddingAlong(1), limit: 2 }));
    expect(found.map((k) => k.term)).toEqual(["mitochondria", "chloroplast"]);
  });
});

describe("search_courses", () => {
  it("finds a course by a word of its title, best first", async () => {
    const found = await asUser((tx) => searchCourses(tx, { userId, query: "biology" }));
    expect(found.map((c) => c.title)).toEqual(["Introduction to Biology"]);
    expect(found[0]!.similarity).toBe(1);
  });

  it("tolerates a typo", async () => {
    expect((await asUser((tx) => searchCourses(tx, { userId, query: "chemestry" }))).map((c) => c.title)).toEqual([
      "Organic Chemistry",
    ]);
  });

  it("finds a course by its description", async () => {
    expect((await asUser((tx) => searchCourses(tx, { userId, query: "evolution" }))).map((c) => c.title)).toEqual([
      "Introduction to Biology",
    ]);
  });

  it("works positionally from SQL, as in the spec", async () => {
    const rows = await asUser((tx) =>
      queryRows(tx, sql.raw(`SELECT title FROM search_courses('${userId}', 'biology', 20)`)),
    );
    expect(rows.map((r) => r.title)).toEqual(["Introduction to Biology"]);
  });
});

describe("search_keywords", () => {
  it('matches typos: "mitocondria" finds "mitochondria" first', async () => {
    const found = await asUser((tx) => searchKeywords(tx, { courseId: ids.course!, query: "mitocondria" }));
    expect(found[0]?.term).toBe("mitochondria");
    expect(found.map((k) => k.term)).not.toContain("ribosome");
  });

  it("works positionally from SQL, as in the spec", async () => {
    const rows = await asUser((tx) =>
      queryRows(tx, sql.raw(`SELECT term FROM search_keywords('${ids.course}', 'mitochondria', 50)`)),
    );
    expect(rows[0]?.term).toBe("mitochondria");
  });
});

describe("statistics", () => {
  it("get_course_stats counts documents by status, chapters, keywords, relationships and progress", async () => {
    expect(await asUser((tx) => getCourseStats(tx, { courseId: ids.course! }))).toEqual({
      courseId: ids.course,
      title: "Introduction to Biology",
      documentCount: 5,
      completedDocumentCount: 2,
      failedDocumentCount: 1,
      chapterCount: 3,
      keywordCount: 4,
      relationshipCount: 1,
      learnerCount: 1,
      averageCompletion: 75,
      totalTimeSpentSeconds: 900,
    });
  });

  it("get_user_progress_summary averages over all chapters, unopened ones as 0%", async () => {
    const summary = await asUser((tx) => getUserProgressSummary(tx, { userId, courseId: ids.course! }));
    expect(summary).toMatchObject({
      totalChapters: 3,
      chaptersStarted: 2,
      chaptersCompleted: 1,
      completionPercentage: 50,
      totalTimeSpentSeconds: 900,
    });
    expect(summary!.lastAccessedAt).toBeInstanceOf(Date);
  });

  it("get_user_learning_stats totals a learner across courses", async () => {
    expect(await asUser((tx) => getUserLearningStats(tx, { userId }))).toMatchObject({
      userId,
      courseCount: 3,
      documentCount: 5,
      coursesInProgress: 1,
      chaptersStarted: 2,
      chaptersCompleted: 1,
      averageCompletion: 75,
      totalTimeSpentSeconds: 900,
      annotationCount: 1,
    });
  });

  it("return null for a course or user that does not exist", async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    expect(await asUser((tx) => getCourseStats(tx, { courseId: missing }))).toBeNull();
    expect(await asUser((tx) => getUserLearningStats(tx, { userId: missing }))).toBeNull();
  });
});

describe("set_current_user_id", () => {
  it("sets the user for the session, as the spec's psql and Python examples use it", async () => {
    // One connection held for the session: a session setting on a shared pool would leak.
    const session = t.url ? createDb({ url: t.url, pool: { max: 1 } }) : t.db;
    await queryRows(session, sql`SELECT set_current_user_id(${userId})`);
    try {
      const rows = await queryRows(session, sql`SELECT title FROM courses ORDER BY title`);
      expect(rows.map((r) => r.title)).toEqual(["Introduction to Biology", "Medieval History", "Organic Chemistry"]);
    } finally {
      await queryRows(session, sql`SELECT set_current_user_id(NULL)`);
      if (session !== t.db) await closeDb(session);
    }
  });
});
