import { relations, sql } from "drizzle-orm";
import { check, foreignKey, index, jsonb, pgPolicy, pgTable, smallint, text, uuid } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { ownerColumn, ownerPolicies } from "./ownership.js";
import { feedbackType } from "./enums.js";
import { users } from "./users.js";
import { processedDocuments } from "./processed-documents.js";
import { chapters } from "./chapters.js";

/** A learner's feedback on processing output: a concept map, an analogy, a chapter, or general. */
export const userAnnotations = pgTable(
  "user_annotations",
  {
    id: id(),
    /** The author of the feedback (not inherited: it is always the current user). */
    ...ownerColumn(),
    processedDocumentId: uuid("processed_document_id"),
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
    // Named by hand: Drizzle's default name has 64 characters, which PostgreSQL truncates to 63,
    // so drizzle-kit push saw a different name on every run and rebuilt the key.
    foreignKey({
      name: "user_annotations_processed_document_id_fk",
      columns: [t.processedDocumentId],
      foreignColumns: [processedDocuments.id],
    }).onDelete("cascade"),
    ...ownerPolicies(t.userId),
    // Moderators (users.role = 'moderator') review feedback, so they may read everyone's
    // annotations and nothing else of other users: SELECT only, OR-ed with the owner policies.
    pgPolicy("user_annotations_select_moderator", {
      for: "select",
      to: "public",
      using: sql`(SELECT EXISTS (SELECT FROM users u WHERE u.id = app_current_user_id() AND u.role = 'moderator'))`,
    }),
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
