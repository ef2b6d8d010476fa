import { relations } from "drizzle-orm";
import { index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { embedding, HNSW_BUILD, id, timestamps } from "./columns.js";
import { inheritedCourseColumn, ownerColumn, ownerPolicies } from "./ownership.js";
import { complexityLevel } from "./enums.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { courseDocuments } from "./course-documents.js";
import { chapters } from "./chapters.js";

/** A concept map as the processing workers emit it: nodes are keywords, edges relationships. */
export interface ConceptMap {
  nodes?: Array<{ id: string; label: string; [key: string]: unknown }>;
  edges?: Array<{ source: string; target: string; type?: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** What processing made of a document: one per uploaded document. */
export const processedDocuments = pgTable(
  "processed_documents",
  {
    id: id(),
    documentId: uuid("document_id")
      .notNull()
      .unique("processed_documents_document_id_unique")
      .references(() => courseDocuments.id, { onDelete: "cascade" }),
    /** Copied from the document by the `inherit_owner` trigger. */
    ...inheritedCourseColumn(),
    ...ownerColumn(),
    title: text("title").notNull(),
    summary: text("summary"),
    conceptMap: jsonb("concept_map").$type<ConceptMap>().notNull().default({}),
    complexityLevel: complexityLevel("complexity_level"),
    embedding: embedding(),
    /** Which embedding model produced `embedding`, so a model change can be re-embedded. */
    embeddingModel: text("embedding_model"),
    ...timestamps,
  },
  (t) => [
    index("processed_documents_course_id_idx").on(t.courseId),
    index("processed_documents_user_id_idx").on(t.userId),
    // m 24, ef_construction 128 (pgvector's defaults are 16 and 64): with the defaults recall@10
    // stopped below 0.98 at 300k documents however wide the search (the graph misses
    // neighbours); the measured curve is in bench/results/latest.json (scale_curve).
    index("processed_documents_embedding_idx").using("hnsw", t.embedding.op("vector_cosine_ops")).with(HNSW_BUILD),
    ...ownerPolicies(t.userId),
  ],
);

export const processedDocumentsRelations = relations(processedDocuments, ({ one, many }) => ({
  document: one(courseDocuments, { fields: [processedDocuments.documentId], references: [courseDocuments.id] }),
  course: one(courses, { fields: [processedDocuments.courseId], references: [courses.id] }),
  owner: one(users, { fields: [processedDocuments.userId], references: [users.id] }),
  chapters: many(chapters),
}));

export type ProcessedDocument = typeof processedDocuments.$inferSelect;
export type NewProcessedDocument = typeof processedDocuments.$inferInsert;
