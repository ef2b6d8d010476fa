import { relations, sql } from "drizzle-orm";
import { check, index, integer, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { embedding, id, timestamps } from "./columns.js";
import { inheritedCourseColumn, ownerColumn, ownerPolicies } from "./ownership.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { processedDocuments } from "./processed-documents.js";
import { keywords } from "./keywords.js";
import { userProgress } from "./user-progress.js";

export const chapters = pgTable(
  "chapters",
  {
    id: id(),
    processedDocumentId: uuid("processed_document_id")
      .notNull()
      .references(() => processedDocuments.id, { onDelete: "cascade" }),
    /** Copied from the processed document by the `inherit_owner` trigger. */
    ...inheritedCourseColumn(),
    ...ownerColumn(),
    /** 1-based position in the document. */
    chapterNumber: integer("chapter_number").notNull(),
    title: text("title").notNull(),
    content: text("content"),
    summary: text("summary"),
    embedding: embedding(),
    ...timestamps,
  },
  (t) => [
    unique("chapters_processed_document_id_chapter_number_unique").on(t.processedDocumentId, t.chapterNumber),
    index("chapters_course_id_idx").on(t.courseId),
    index("chapters_user_id_idx").on(t.userId),
    index("chapters_embedding_idx").using("hnsw", t.embedding.op("vector_cosine_ops")),
    check("chapters_chapter_number_check", sql`${t.chapterNumber} >= 1`),
    ...ownerPolicies(t.userId),
  ],
);

export const chaptersRelations = relations(chapters, ({ one, many }) => ({
  processedDocument: one(processedDocuments, {
    fields: [chapters.processedDocumentId],
    references: [processedDocuments.id],
  }),
  course: one(courses, { fields: [chapters.courseId], references: [courses.id] }),
  owner: one(users, { fields: [chapters.userId], references: [users.id] }),
  keywords: many(keywords),
  progress: many(userProgress),
}));

export type Chapter = typeof chapters.$inferSelect;
export type NewChapter = typeof chapters.$inferInsert;
