import { z } from "zod";
import type { Queryable } from "../db/transaction.js";
import { limitInput, parseInput, queryInput, uuidInput } from "../db/validation.js";
import { searchCoursesFunction, searchKeywordsFunction, type CourseMatch, type KeywordMatch } from "./declarations.js";

export type { CourseMatch, KeywordMatch };

const searchCoursesInput = z.object({ userId: uuidInput, query: queryInput, limit: limitInput.default(20) });
export type SearchCoursesInput = z.input<typeof searchCoursesInput>;

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
  return searchCoursesFunction.call(db, [userId, query, limit]);
}

const searchKeywordsInput = z.object({ courseId: uuidInput, query: queryInput, limit: limitInput.default(50) });
export type SearchKeywordsInput = z.input<typeof searchKeywordsInput>;

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
  return searchKeywordsFunction.call(db, [courseId, query, limit]);
}
