import { sql } from "drizzle-orm";
import {
  findSimilarKeywords,
  searchCourses,
  searchKeywords,
  withAdmin,
  withUserContext,
  type Database,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { SUBJECTS } from "../src/seed/vocabulary.js";
import { measure } from "./timing.js";

/** Drops one inner letter: the typo a search must forgive. */
const typo = (term: string) =>
  term.length < 5 ? term : term.slice(0, Math.floor(term.length / 2)) + term.slice(Math.floor(term.length / 2) + 1);

/**
 * Trigram search (search_keywords, search_courses) and the chapter-filtered keyword search, as
 * the courses' owners would run them; optionally after growing keywords to 1,000,000 rows.
 */
export async function searchSuite(
  db: Database,
  options: { queries: number; keywords1m: boolean; log: (s: string) => void },
) {
  const targets = await withAdmin(db, (tx) =>
    queryRows(
      tx,
      sql`SELECT k.user_id, k.course_id, k.chapter_id, k.term, k.embedding::text AS embedding FROM keywords k WHERE k.embedding IS NOT NULL ORDER BY k.id LIMIT ${options.queries}`,
    ),
  );
  const terms = SUBJECTS.flatMap((s) => s.terms);

  options.log("search: keywords of one chapter, by similarity");
  const chapterFiltered = await measure(targets.length, (i) => {
    const t = targets[i % targets.length]!;
    return withUserContext(db, String(t.user_id), (tx) =>
      findSimilarKeywords(tx, {
        embedding: JSON.parse(String(t.embedding)),
        chapterId: String(t.chapter_id),
        limit: 10,
      }),
    );
  });

  if (options.keywords1m) {
    options.log("search: growing keywords to 1,000,000");
    await growKeywords(db, 1_000_000);
  }
  const [{ n } = { n: 0 }] = await withAdmin(db, (tx) => queryRows(tx, sql`SELECT count(*)::int AS n FROM keywords`));

  options.log("search: search_keywords with a typo");
  const keywordSearch = await measure(targets.length, (i) => {
    const t = targets[i % targets.length]!;
    return withUserContext(db, String(t.user_id), (tx) =>
      searchKeywords(tx, { courseId: String(t.course_id), query: typo(terms[i % terms.length]!), limit: 20 }),
    );
  });
  options.log("search: search_courses");
  const courseSearch = await measure(targets.length, (i) => {
    const t = targets[i % targets.length]!;
    return withUserContext(db, String(t.user_id), (tx) =>
      searchCourses(tx, {
        userId: String(t.user_id),
        query: SUBJECTS[i % SUBJECTS.length]!.name.toLowerCase(),
        limit: 20,
      }),
    );
  });
  return {
    keywords_total: Number(n),
    filtered: { keywords_of_one_chapter: chapterFiltered },
    keyword_search: keywordSearch,
    course_search: courseSearch,
  };
}

/**
 * Adds keyword rows (no embeddings: this measures text search) to existing chapters until the
 * table holds `target` rows, in server-side batches: realistic terms with a numbered suffix.
 */
async function growKeywords(db: Database, target: number) {
  const terms = SUBJECTS.flatMap((s) => s.terms);
  for (;;) {
    const [{ n } = { n: 0 }] = await withAdmin(db, (tx) => queryRows(tx, sql`SELECT count(*)::int AS n FROM keywords`));
    const missing = target - Number(n);
    if (missing <= 0) {
      // Statistics for the grown table: without them the suites after this one are planned from the
      // seed's (a tenth of the rows), or from whatever autovacuum happened to sample mid-run.
      await db.execute(sql`ANALYZE keywords`);
      return;
    }
    const batch = Math.min(missing, 100_000);
    await withAdmin(db, (tx) =>
      tx.execute(sql`
        WITH chapter_ids AS (SELECT array_agg(id) AS ids, count(*) AS n FROM chapters)
        INSERT INTO keywords (chapter_id, term, definition, importance)
        SELECT c.ids[1 + (g.i % c.n)], (${sql.param(terms)}::text[])[1 + (g.i % ${terms.length})] || ' ' || (${Number(n)} + g.i), 'bench', 0.5
        FROM generate_series(1, ${batch}) AS g(i), chapter_ids c`),
    );
  }
}
