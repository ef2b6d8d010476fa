import { relations, sql } from "drizzle-orm";
import { check, index, jsonb, pgTable, smallint, text, uuid } from "drizzle-orm/pg-core";
import { id, ownerDefault, timestamps } from "./columns.js";
import { feedbackType } from "./enums.js";
import { users } from "./users.js";
import { processedDocuments } from "./processed_documents.js";
import { chapters } from "./chapters.js";

/** A learner's feedback on processing output: a concept map, an analogy, a chapter, or general. */
export const userAnnotations = pgTable(
  "user_annotations",
  {
    id: id(),
    /** The author of the feedback (not inherited: it is always the current user). */
    userId: uuid("user_id")
      .notNull()
      .default(ownerDefault)
      .references(() => users.id, { onDelete: "cascade" }),
    processedDocumentId: uuid("processed_document_id").references(() => processedDocuments.id, {
      onDelete: "cascade",
    }),
    chapterId: uuid("chapter_id").references(() => chapters.id, { onDelete: "cascade" }),
    feedbackType: feedbackType("feedback_type").notNull(),
    /** 1 (poor) to 5 (excellent); NULL when the feedback is a comment only. */
    rating: smallint("rating"),
    comment: text("comment"),
    /** What the feedback points at, e.g. a concept map node id or a highlighted passage. */
    target: jsonb("target").$type<Record<string, unknown>>(),
    ...timestamps,
  },
  (t) => [
    index("user_annotations_user_id_idx").on(t.userId),
    index("user_annotations_processed_document_id_idx").on(t.processedDocumentId),
    index("user_annotations_chapter_id_idx").on(t.chapterId),
    check("user_annotations_rating_check", sql`${t.rating} BETWEEN 1 AND 5`),
  ],
);

export const userAnnotationsRelations = relations(userAnnotations, ({ one }) => ({
  author: one(users, { fields: [userAnnotations.userId], references: [users.id] }),
  processedDocument: one(processedDocuments, {
    fields: [userAnnotations.processedDocumentId],
    references: [processedDocuments.id],
  }),
  chapter: one(chapters, { fields: [userAnnotations.chapterId], references: [chapters.id] }),
}));

export type UserAnnotation = typeof userAnnotations.$inferSelect;
export type NewUserAnnotation = typeof userAnnotations.$inferInsert;
