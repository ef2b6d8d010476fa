import { randomInt } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { withAdmin, withUserContext } from "../context.js";
import type { Database } from "../connection.js";
import { findSimilarDocuments, findSimilarKeywords } from "../functions/vector-search.js";
import { searchCourses, searchKeywords } from "../functions/text-search.js";
import { getCourseStats, getUserLearningStats, getUserProgressSummary } from "../functions/stats.js";
import { migrate } from "../migrations/migrate.js";
import { courses, keywords, processedDocuments, users } from "../schema/index.js";
import { seed } from "../seed/index.js";

const heading = (text: string) => console.log(`\n── ${text} ${"─".repeat(Math.max(0, 70 - text.length))}`);
const table = (rows: Array<Record<string, unknown>>) =>
  rows.length ? console.table(rows) : console.log("  (no rows)");
const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The data layer at work, as a user of the platform would meet it: migrate, seed a small data
 * set, then one call per function, and row-level security keeping two users apart. On a server
 * the demo's users (and everything they own) are deleted at the end.
 */
export async function runDemo(db: Database): Promise<void> {
  heading("1. Migrate");
  const migrated = await migrate(db, { appliedVia: "sensa-db" });
  console.log(migrated.applied.length ? `applied ${migrated.applied.join(", ")}` : "already up to date");

  heading("2. Seed a small data set");
  const seeded = await seed(db, {
    seed: randomInt(1_000_000),
    users: 3,
    coursesPerUser: 2,
    documentsPerCourse: 3,
    chaptersPerDocument: 3,
    keywordsPerChapter: 6,
  });
  console.log(`${seeded.totalRows} rows in ${seeded.seconds.toFixed(1)} s:`, seeded.rows);
  const [alice, bob] = seeded.userIds as [string, string];

  try {
    const [doc] = await withUserContext(db, alice, (tx) =>
      tx
        .select({
          id: processedDocuments.id,
          title: processedDocuments.title,
          courseId: processedDocuments.courseId,
          embedding: processedDocuments.embedding,
        })
        .from(processedDocuments)
        .limit(1),
    );
    heading(`3. Documents similar to "${doc!.title}" (find_similar_documents), as its owner`);
    const similar = await withUserContext(db, alice, (tx) =>
      findSimilarDocuments(tx, { embedding: doc!.embedding!, limit: 5, threshold: 0.5 }),
    );
    table(similar.map((d) => ({ title: d.title, similarity: round(d.similarity) })));

    const [keyword] = await withUserContext(db, alice, (tx) =>
      tx.select().from(keywords).where(eq(keywords.courseId, doc!.courseId)).limit(1),
    );
    heading(`4. Keywords near "${keyword!.term}" in its chapter (find_similar_keywords)`);
    table(
      (
        await withUserContext(db, alice, (tx) =>
          findSimilarKeywords(tx, { embedding: keyword!.embedding!, chapterId: keyword!.chapterId, limit: 4 }),
        )
      ).map((k) => ({ term: k.term, similarity: round(k.similarity) })),
    );

    const typo = misspell(keyword!.term);
    heading(`5. Typo-tolerant keyword search: "${typo}" (search_keywords)`);
    table(
      (
        await withUserContext(db, alice, (tx) => searchKeywords(tx, { courseId: doc!.courseId, query: typo, limit: 5 }))
      ).map((k) => ({ term: k.term, similarity: round(k.similarity) })),
    );

    const [course] = await withUserContext(db, alice, (tx) =>
      tx.select().from(courses).where(eq(courses.id, doc!.courseId)),
    );
    const word = course!.title.split(" ").at(-1)!;
    heading(`6. Alice's courses matching "${word.toLowerCase()}" (search_courses)`);
    table(
      (await withUserContext(db, alice, (tx) => searchCourses(tx, { userId: alice, query: word.toLowerCase() }))).map(
        (c) => ({ title: c.title, similarity: round(c.similarity) }),
      ),
    );

    heading(`7. Statistics for "${course!.title}" (get_course_stats)`);
    console.log(await withUserContext(db, alice, (tx) => getCourseStats(tx, { courseId: course!.id })));

    heading("8. Alice's progress in that course, and overall (get_user_progress_summary, get_user_learning_stats)");
    console.log(
      await withUserContext(db, alice, (tx) => getUserProgressSummary(tx, { userId: alice, courseId: course!.id })),
    );
    console.log(await withUserContext(db, alice, (tx) => getUserLearningStats(tx, { userId: alice })));

    heading("9. Row-level security: Bob asks for Alice's data");
    const bobSees = await withUserContext(db, bob, (tx) => tx.select().from(courses).where(eq(courses.userId, alice)));
    const bobStats = await withUserContext(db, bob, (tx) => getCourseStats(tx, { courseId: course!.id }));
    const bobSimilar = await withUserContext(db, bob, (tx) =>
      findSimilarDocuments(tx, { embedding: doc!.embedding!, threshold: 0 }),
    );
    console.log(`Bob selects Alice's courses: ${bobSees.length} rows`);
    console.log(
      `Bob asks for the statistics of Alice's course: ${bobStats === null ? "null (not visible)" : "VISIBLE"}`,
    );
    console.log(
      `Bob searches for documents like Alice's: ${bobSimilar.filter((d) => d.courseId === doc!.courseId).length} of hers among ${bobSimilar.length} results (all his own)`,
    );
    const everyone = await withAdmin(db, (tx) => tx.execute(sql`SELECT count(*)::int AS n FROM courses`));
    console.log(
      `admin_role counts every course: ${(everyone as unknown as { rows: Array<{ n: number }> }).rows[0]!.n}`,
    );
  } finally {
    await withAdmin(db, (tx) => tx.delete(users).where(sql`${users.id} IN ${seeded.userIds}`));
  }
  console.log("\nDone: the demo's users and their data were removed again.");
}

/** Drops one inner letter, the way a hurried learner types. */
function misspell(term: string): string {
  const word = term.split(" ").sort((a, b) => b.length - a.length)[0]!;
  if (word.length < 5) return term;
  const at = Math.floor(word.length / 2);
  return term.replace(word, word.slice(0, at) + word.slice(at + 1));
}
