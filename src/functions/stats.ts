import { z } from "zod";
import type { Queryable } from "../db/transaction.js";
import { parseInput, uuidInput } from "../db/validation.js";
import {
  getCourseStatsFunction,
  getUserLearningStatsFunction,
  getUserProgressSummaryFunction,
  type CourseStats,
  type UserLearningStats,
  type UserProgressSummary,
} from "./declarations.js";

export type { CourseStats, UserProgressSummary, UserLearningStats };

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
  const [stats] = await getCourseStatsFunction.call(db, [courseId]);
  return stats ?? null;
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
  const [summary] = await getUserProgressSummaryFunction.call(db, [userId, courseId]);
  return summary ?? null;
}

/**
 * `get_user_learning_stats`: a learner's totals across all courses; `null` when the user is
 * not visible.
 *
 * ```ts
 * const stats = await withUserContext(db, userId, (tx) => getUserLearningStats(tx, { userId }));
 * ```
 */
export async function getUserLearningStats(
  db: Queryable,
  input: { userId: string },
): Promise<UserLearningStats | null> {
  const { userId } = parseInput(z.object({ userId: uuidInput }), input, "getUserLearningStats");
  const [stats] = await getUserLearningStatsFunction.call(db, [userId]);
  return stats ?? null;
}
