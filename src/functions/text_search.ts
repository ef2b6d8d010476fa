import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../context.js";
import { limitInput, parseInput, queryInput, uuidInput } from "../validation.js";
import { num, queryRows, str, strOrNull } from "./rows.js";

const searchCoursesInput = z.object({ userId: uuidInput, query: queryInput, limit: limitInput.default(20) });
export type SearchCoursesInput = z.input<typeof searchCoursesInput>;

export interface CourseMatch {
  courseId: string;
  title: string;
  description: string | null;
  /** pg_trgm word similarity, 0..1. */
  similarity: number;
}

/**
 * `search_courses`: a user's courses whose title or description matches `query`, typos
 * tolerated, best first, at most `limit` (default 20).
 *
 * ```ts
 * const hits = await withUserContext(db, userId, (tx) => searchCourses(tx, { userId, query: "biology" }));
 * ```
 */
export async function searchCourses(db: Queryable, input: SearchCoursesInput): Promise<CourseMatch[]> {
  const { userId, query, limit } = parseInput(searchCoursesInput, input, "searchCourses");
  const rows = await queryRows(db, sql`SELECT * FROM search_courses(${userId}::uuid, ${query}::text, ${limit}::integer)`);
  return rows.map((r) => ({
    courseId: str(r.course_id),
    title: str(r.title),
    description: strOrNull(r.description),
    similarity: num(r.similarity),
  }));
}

const searchKeywordsInput = z.object({ courseId: uuidInput, query: queryInput, limit: limitInput.default(50) });
export type SearchKeywordsInput = z.input<typeof searchKeywordsInput>;

export interface KeywordMatch {
  keywordId: string;
  chapterId: string;
  term: string;
  definition: string | null;
  similarity: number;
}

/**
 * `search_keywords`: a course's keywords matching `query`, typos tolerated ("mitocondria"
 * finds "mitochondria"), best first, at most `limit` (default 50).
 *
 * ```ts
 * const terms = await withUserContext(db, userId, (tx) => searchKeywords(tx, { courseId, query: "mitocondria" }));
 * ```
 */
export async function searchKeywords(db: Queryable, input: SearchKeywordsInput): Promise<KeywordMatch[]> {
  const { courseId, query, limit } = parseInput(searchKeywordsInput, input, "searchKeywords");
  const rows = await queryRows(db, sql`SELECT * FROM search_keywords(${courseId}::uuid, ${query}::text, ${limit}::integer)`);
  return rows.map((r) => ({
    keywordId: str(r.keyword_id),
    chapterId: str(r.chapter_id),
    term: str(r.term),
    definition: strOrNull(r.definition),
    similarity: num(r.similarity),
  }));
}
