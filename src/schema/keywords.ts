import { relations, sql } from "drizzle-orm";
import { check, index, pgTable, real, text, unique, uuid } from "drizzle-orm/pg-core";
import { embedding, id, timestamps } from "./columns.js";
import { inheritedCourseColumn, ownerColumn, ownerPolicies } from "./ownership.js";
import { complexityLevel } from "./enums.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { chapters } from "./chapters.js";
import { relationships } from "./relationships.js";

/** A concept or term extracted from a chapter. */
export const keywords = pgTable(
  "keywords",
  {
    id: id(),
    chapterId: uuid("chapter_id")
      .notNull()
      .references(() => chapters.id, { onDelete: "cascade" }),
    /** Copied from the chapter by the `inherit_owner` trigger; search_keywords filters by it. */
    ...inheritedCourseColumn(),
    ...ownerColumn(),
    term: text("term").notNull(),
    definition: text("definition"),
    complexityLevel: complexityLevel("complexity_level"),
    /** How central the term is to its chapter, 0 (peripheral) to 1 (the chapter's subject). */
    importance: real("importance").notNull().default(0.5),
    embedding: embedding(),
    ...timestamps,
  },
  (t) => [
    unique("keywords_chapter_id_term_unique").on(t.chapterId, t.term),
    index("keywords_course_id_idx").on(t.courseId),
    index("keywords_user_id_idx").on(t.userId),
    index("keywords_term_trgm_idx").using("gin", t.term.op("gin_trgm_ops")),
    index("keywords_embedding_idx").using("hnsw", t.embedding.op("vector_cosine_ops")),
    check("keywords_importance_check", sql`${t.importance} >= 0 AND ${t.importance} <= 1`),
    ...ownerPolicies(t.userId),
  ],
);

export const keywordsRelations = relations(keywords, ({ one, many }) => ({
  chapter: one(chapters, { fields: [keywords.chapterId], references: [chapters.id] }),
  course: one(courses, { fields: [keywords.courseId], references: [courses.id] }),
  owner: one(users, { fields: [keywords.userId], references: [users.id] }),
  outgoing: many(relationships, { relationName: "source" }),
  incoming: many(relationships, { relationName: "target" }),
}));

export type Keyword = typeof keywords.$inferSelect;
export type NewKeyword = typeof keywords.$inferInsert;
