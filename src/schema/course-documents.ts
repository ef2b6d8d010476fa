import { relations, sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { ownerColumn, ownerPolicies } from "./ownership.js";
import { processingStatus } from "./enums.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { processedDocuments } from "./processed-documents.js";

/** An uploaded file and its place in the processing pipeline. */
export const courseDocuments = pgTable(
  "course_documents",
  {
    id: id(),
    courseId: uuid("course_id")
      .notNull()
      .references(() => courses.id, { onDelete: "cascade" }),
    /** Copied from the course by the `inherit_owner` trigger. */
    ...ownerColumn(),
    fileName: text("file_name").notNull(),
    /** Where the upload lives in the documents bucket; one object, one document. */
    s3Key: text("s3_key").notNull().unique("course_documents_s3_key_unique"),
    mimeType: text("mime_type"),
    fileSizeBytes: bigint("file_size_bytes", { mode: "number" }),
    processingStatus: processingStatus("processing_status").notNull().default("pending"),
    processingError: text("processing_error"),
    /** Set by the `track_processing_status` trigger, never by the app. */
    processingStartedAt: timestamp("processing_started_at", { withTimezone: true }),
    processingCompletedAt: timestamp("processing_completed_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    index("course_documents_course_id_idx").on(t.courseId),
    index("course_documents_user_id_idx").on(t.userId),
    index("course_documents_processing_status_idx").on(t.processingStatus),
    check("course_documents_file_size_bytes_check", sql`${t.fileSizeBytes} >= 0`),
    ...ownerPolicies(t.userId),
  ],
);

export const courseDocumentsRelations = relations(courseDocuments, ({ one }) => ({
  course: one(courses, { fields: [courseDocuments.courseId], references: [courses.id] }),
  owner: one(users, { fields: [courseDocuments.userId], references: [users.id] }),
  processed: one(processedDocuments),
}));

export type CourseDocument = typeof courseDocuments.$inferSelect;
export type NewCourseDocument = typeof courseDocuments.$inferInsert;
