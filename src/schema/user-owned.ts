import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { chapters } from "./chapters.js";
import { courseDocuments } from "./course-documents.js";
import { courses } from "./courses.js";
import { keywords } from "./keywords.js";
import { processedDocuments } from "./processed-documents.js";
import { relationships } from "./relationships.js";
import { userAnnotations } from "./user-annotations.js";
import { userProfiles } from "./user-profiles.js";
import { userProgress } from "./user-progress.js";
import { users } from "./users.js";

/** One table whose rows each belong to one user, and how a row gets its owner. */
export interface UserOwnedTable {
  table: PgTable;
  /** The column the owner policies filter on (`ownerPolicies(t.userId)` in the table's file). */
  owner: PgColumn;
  /**
   * What the table's `inherit_owner` trigger (sql/triggers/inherit_owner.sql) does before a row
   * is written, reading as the current user so that a parent row-level security hides counts
   * as missing: `copies` the listed columns from the `from` row the foreign key points at, or
   * only `checks` that each referenced row is visible. Absent: the owner is whoever writes the
   * row (the RLS context's user), and there is no trigger.
   */
  inherit?: { from: PgTable; copies: ReadonlyArray<"user_id" | "course_id"> } | { checks: readonly PgTable[] };
}

/**
 * Every user-owned table, parents before children: the one list from which the owner policies,
 * the `inherit_owner` triggers, FORCEd row-level security, the grants and the seed's load order
 * are checked (test/schema-ownership.test.ts), and from which the tests take their table lists.
 * A table with a `user_id` column that is not listed here fails that test.
 */
export const userOwnedTables: readonly UserOwnedTable[] = [
  // The row *is* the owner.
  { table: users, owner: users.id },
  { table: userProfiles, owner: userProfiles.userId },
  { table: courses, owner: courses.userId },
  { table: courseDocuments, owner: courseDocuments.userId, inherit: { from: courses, copies: ["user_id"] } },
  {
    table: processedDocuments,
    owner: processedDocuments.userId,
    inherit: { from: courseDocuments, copies: ["user_id", "course_id"] },
  },
  { table: chapters, owner: chapters.userId, inherit: { from: processedDocuments, copies: ["user_id", "course_id"] } },
  { table: keywords, owner: keywords.userId, inherit: { from: chapters, copies: ["user_id", "course_id"] } },
  // From the source keyword; the target must be a keyword of the same owner.
  { table: relationships, owner: relationships.userId, inherit: { from: keywords, copies: ["user_id"] } },
  // Feedback is its author's; it may only point at documents and chapters the author can see.
  { table: userAnnotations, owner: userAnnotations.userId, inherit: { checks: [processedDocuments, chapters] } },
  // Progress is the learner's own; the course is copied from the chapter, for per-course summaries.
  { table: userProgress, owner: userProgress.userId, inherit: { from: chapters, copies: ["course_id"] } },
];
