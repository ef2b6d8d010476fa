import { users } from "../schema/users.js";
import { column, rowShape, sqlFunction, tableRowShape, type RowOf } from "./sql-function.js";

// Each SQL function of sql/functions/, declared once: its arguments in order and its result row.
// The wrappers call these; test/function-shapes.test.ts compares them with the catalog. Not part
// of the public API: a call here skips the wrappers' input validation.

const similarDocument = {
  processedDocumentId: column.uuid,
  documentId: column.uuid,
  courseId: column.uuid,
  title: column.text,
  /** 1 - cosine distance: 1 is the same direction. */
  similarity: column.doublePrecision,
};
export type SimilarDocument = RowOf<typeof similarDocument>;

export const findSimilarDocumentsFunction = sqlFunction(
  "find_similar_documents",
  { query_embedding: "vector", result_limit: "integer", min_similarity: "double precision" },
  rowShape(similarDocument),
);

const similarKeyword = {
  keywordId: column.uuid,
  chapterId: column.uuid,
  courseId: column.uuid,
  term: column.text,
  definition: column.textOrNull,
  /** 1 - cosine distance. */
  similarity: column.doublePrecision,
};
export type SimilarKeyword = RowOf<typeof similarKeyword>;

export const findSimilarKeywordsFunction = sqlFunction(
  "find_similar_keywords",
  { query_embedding: "vector", p_chapter_id: "uuid", result_limit: "integer" },
  rowShape(similarKeyword),
);

const courseMatch = {
  courseId: column.uuid,
  title: column.text,
  description: column.textOrNull,
  /** pg_trgm word similarity, 0..1. */
  similarity: column.real,
};
export type CourseMatch = RowOf<typeof courseMatch>;

export const searchCoursesFunction = sqlFunction(
  "search_courses",
  { p_user_id: "uuid", query: "text", result_limit: "integer" },
  rowShape(courseMatch),
);

const keywordMatch = {
  keywordId: column.uuid,
  chapterId: column.uuid,
  term: column.text,
  definition: column.textOrNull,
  /** pg_trgm word similarity, 0..1. */
  similarity: column.real,
};
export type KeywordMatch = RowOf<typeof keywordMatch>;

export const searchKeywordsFunction = sqlFunction(
  "search_keywords",
  { p_course_id: "uuid", query: "text", result_limit: "integer" },
  rowShape(keywordMatch),
);

const courseStats = {
  courseId: column.uuid,
  title: column.text,
  documentCount: column.bigint,
  completedDocumentCount: column.bigint,
  failedDocumentCount: column.bigint,
  chapterCount: column.bigint,
  keywordCount: column.bigint,
  relationshipCount: column.bigint,
  learnerCount: column.bigint,
  /** Mean completion percentage over the course's progress rows, 0..100. */
  averageCompletion: column.numeric,
  totalTimeSpentSeconds: column.bigint,
};
export type CourseStats = RowOf<typeof courseStats>;

export const getCourseStatsFunction = sqlFunction("get_course_stats", { p_course_id: "uuid" }, rowShape(courseStats));

const userProgressSummary = {
  userId: column.uuid,
  courseId: column.uuid,
  totalChapters: column.bigint,
  chaptersStarted: column.bigint,
  chaptersCompleted: column.bigint,
  /** Over all the course's chapters, unopened ones counting as 0%: 0..100. */
  completionPercentage: column.numeric,
  totalTimeSpentSeconds: column.bigint,
  lastAccessedAt: column.timestamptzOrNull,
};
export type UserProgressSummary = RowOf<typeof userProgressSummary>;

export const getUserProgressSummaryFunction = sqlFunction(
  "get_user_progress_summary",
  { p_user_id: "uuid", p_course_id: "uuid" },
  rowShape(userProgressSummary),
);

const userLearningStats = {
  userId: column.uuid,
  courseCount: column.bigint,
  documentCount: column.bigint,
  coursesInProgress: column.bigint,
  chaptersStarted: column.bigint,
  chaptersCompleted: column.bigint,
  averageCompletion: column.numeric,
  totalTimeSpentSeconds: column.bigint,
  annotationCount: column.bigint,
  lastAccessedAt: column.timestamptzOrNull,
};
export type UserLearningStats = RowOf<typeof userLearningStats>;

export const getUserLearningStatsFunction = sqlFunction(
  "get_user_learning_stats",
  { p_user_id: "uuid" },
  rowShape(userLearningStats),
);

/** `RETURNS users`: the row is the table's, so its shape comes from the table itself (type `User`). */
export const findOrCreateUserFunction = sqlFunction(
  "find_or_create_user",
  { p_cognito_sub: "text", p_email: "text", p_display_name: "text" },
  tableRowShape(users),
);

/** Every SQL function the package wraps. */
export const sqlFunctions = [
  findSimilarDocumentsFunction,
  findSimilarKeywordsFunction,
  searchCoursesFunction,
  searchKeywordsFunction,
  getCourseStatsFunction,
  getUserProgressSummaryFunction,
  getUserLearningStatsFunction,
  findOrCreateUserFunction,
];
