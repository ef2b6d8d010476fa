import { relations, sql } from "drizzle-orm";
import { check, index, integer, numeric, pgTable, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { inheritedCourseColumn, ownerColumn, ownerPolicies } from "./ownership.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { chapters } from "./chapters.js";

/** How far a learner is through a chapter: one row per user and chapter. */
export const userProgress = pgTable(
  "user_progress",
  {
    id: id(),
    ...ownerColumn(),
    chapterId: uuid("chapter_id")
      .notNull()
      .references(() => chapters.id, { onDelete: "cascade" }),
    /** Copied from the chapter by the `inherit_owner` trigger, for per-course summaries. */
    ...inheritedCourseColumn(),
    /** Default written as drizzle-kit push reads a numeric default back (quoted), so push sees no change. */
    completionPercentage: numeric("completion_percentage", { precision: 5, scale: 2, mode: "number" })
      .notNull()
      .default(sql`'0'`),
    timeSpentSeconds: integer("time_spent_seconds").notNull().default(0),
    lastAccessedAt: timestamp("last_accessed_at", { withTimezone: true }).notNull().defaultNow(),
    /** Set by the `track_completion` trigger when the percentage reaches 100. */
    completedAt: timestamp("completed_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    unique("user_progress_user_id_chapter_id_unique").on(t.userId, t.chapterId),
    index("user_progress_chapter_id_idx").on(t.chapterId),
    index("user_progress_course_id_idx").on(t.courseId),
    check("user_progress_completion_percentage_check", sql`${t.completionPercentage} BETWEEN 0 AND 100`),
    check("user_progress_time_spent_seconds_check", sql`${t.timeSpentSeconds} >= 0`),
    ...ownerPolicies(t.userId),
  ],
);

export const userProgressRelations = relations(userProgress, ({ one }) => ({
  user: one(users, { fields: [userProgress.userId], references: [users.id] }),
  chapter: one(chapters, { fields: [userProgress.chapterId], references: [chapters.id] }),
  course: one(courses, { fields: [userProgress.courseId], references: [courses.id] }),
}));

export type UserProgress = typeof userProgress.$inferSelect;
export type NewUserProgress = typeof userProgress.$inferInsert;
