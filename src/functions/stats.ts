import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../context.js";
import { parseInput, uuidInput } from "../validation.js";
import { dateOrNull, num, queryRows, str } from "./rows.js";

export interface CourseStats {
  courseId: string;
  title: string;
  documentCount: number;
  completedDocumentCount: number;
  failedDocumentCount: number;
  chapterCount: number;
  keywordCount: number;
  relationshipCount: number;
  learnerCount: number;
  /** Mean completion percentage over the course's progress rows, 0..100. */
  averageCompletion: number;
  totalTimeSpentSeconds: number;
}

/**
 * `get_course_stats`: counts for one course; `null` when the course does not exist or the
 * current context may not see it.
 *
 * ```ts
 * const stats = await withUserContext(db, userId, (tx) => getCourseStats(tx, { courseId }));
 * ```
 */
export async function getCourseStats(db: Queryable, input: { courseId: string }): Promise<CourseStats | null> {
  const { courseId } = parseInput(z.object({ courseId: uuidInput }), input, "getCourseStats");
  const [r] = await queryRows(db, sql`SELECT * FROM get_course_stats(${courseId}::uuid)`);
  if (!r) return null;
  return {
    courseId: str(r.course_id),
    title: str(r.title),
    documentCount: num(r.document_count),
    completedDocumentCount: num(r.completed_document_count),
    failedDocumentCount: num(r.failed_document_count),
    chapterCount: num(r.chapter_count),
    keywordCount: num(r.keyword_count),
    relationshipCount: num(r.relationship_count),
    learnerCount: num(r.learner_count),
    averageCompletion: num(r.average_completion),
    totalTimeSpentSeconds: num(r.total_time_spent_seconds),
  };
}

export interface UserProgressSummary {
  userId: string;
  courseId: string;
  totalChapters: number;
  chaptersStarted: number;
  chaptersCompleted: number;
  /** Over all the course's chapters, unopened ones counting as 0%: 0..100. */
  completionPercentage: number;
  totalTimeSpentSeconds: number;
  lastAccessedAt: Date | null;
}

/**
 * `get_user_progress_summary`: a learner's progress through one course; `null` when the user
 * or course is not visible.
 *
 * ```ts
 * const summary = await withUserContext(db, userId, (tx) => getUserProgressSummary(tx, { userId, courseId }));
 * ```
 */
export async function getUserProgressSummary(
  db: Queryable,
  input: { userId: string; courseId: string },
): Promise<UserProgressSummary | null> {
  const { userId, courseId } = parseInput(
    z.object({ userId: uuidInput, courseId: uuidInput }),
    input,
    "getUserProgressSummary",
  );
  const [r] = await queryRows(db, sql`SELECT * FROM get_user_progress_summary(${userId}::uuid, ${courseId}::uuid)`);
  if (!r) return null;
  return {
    userId: str(r.user_id),
    courseId: str(r.course_id),
    totalChapters: num(r.total_chapters),
    chaptersStarted: num(r.chapters_started),
    chaptersCompleted: num(r.chapters_completed),
    completionPercentage: num(r.completion_percentage),
    totalTimeSpentSeconds: num(r.total_time_spent_seconds),
    lastAccessedAt: dateOrNull(r.last_accessed_at),
  };
}

export interface UserLearningStats {
  userId: string;
  courseCount: number;
  documentCount: number;
  coursesInProgress: number;
  chaptersStarted: number;
  chaptersCompleted: number;
  averageCompletion: number;
  totalTimeSpentSeconds: number;
  annotationCount: number;
  lastAccessedAt: Date | null;
}

/**
 * `get_user_learning_stats`: a learner's totals across all courses; `null` when the user is
 * not visible.
 *
 * ```ts
 * const stats = await withUserContext(db, userId, (tx) => getUserLearningStats(tx, { userId }));
 * ```
 */
export async function getUserLearningStats(db: Queryable, input: { userId: string }): Promise<UserLearningStats | null> {
  const { userId } = parseInput(z.object({ userId: uuidInput }), input, "getUserLearningStats");
  const [r] = await queryRows(db, sql`SELECT * FROM get_user_learning_stats(${userId}::uuid)`);
  if (!r) return null;
  return {
    userId: str(r.user_id),
    courseCount: num(r.course_count),
    documentCount: num(r.document_count),
    coursesInProgress: num(r.courses_in_progress),
    chaptersStarted: num(r.chapters_started),
    chaptersCompleted: num(r.chapters_completed),
    averageCompletion: num(r.average_completion),
    totalTimeSpentSeconds: num(r.total_time_spent_seconds),
    annotationCount: num(r.annotation_count),
    lastAccessedAt: dateOrNull(r.last_accessed_at),
  };
}
