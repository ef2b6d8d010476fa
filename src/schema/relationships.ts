import { relations, sql } from "drizzle-orm";
import { check, index, pgTable, real, text, unique, uuid } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { ownerColumn, ownerPolicies } from "./ownership.js";
import { users } from "./users.js";
import { keywords } from "./keywords.js";

/** A directed, typed edge of the concept map between two keywords of the same user. */
export const relationships = pgTable(
  "relationships",
  {
    id: id(),
    sourceKeywordId: uuid("source_keyword_id")
      .notNull()
      .references(() => keywords.id, { onDelete: "cascade" }),
    targetKeywordId: uuid("target_keyword_id")
      .notNull()
      .references(() => keywords.id, { onDelete: "cascade" }),
    /** Copied from the source keyword by the `inherit_owner` trigger. */
    ...ownerColumn(),
    /** e.g. `is_a`, `part_of`, `causes`, `related_to`: open-ended, as extraction models name them. */
    relationshipType: text("relationship_type").notNull(),
    /** Confidence of the edge, 0 to 1. */
    strength: real("strength").notNull().default(0.5),
    description: text("description"),
    ...timestamps,
  },
  (t) => [
    unique("relationships_source_target_type_unique").on(t.sourceKeywordId, t.targetKeywordId, t.relationshipType),
    index("relationships_target_keyword_id_idx").on(t.targetKeywordId),
    index("relationships_user_id_idx").on(t.userId),
    check("relationships_strength_check", sql`${t.strength} >= 0 AND ${t.strength} <= 1`),
    check("relationships_no_self_loop_check", sql`${t.sourceKeywordId} <> ${t.targetKeywordId}`),
    ...ownerPolicies(t.userId),
  ],
);

export const relationshipsRelations = relations(relationships, ({ one }) => ({
  source: one(keywords, { fields: [relationships.sourceKeywordId], references: [keywords.id], relationName: "source" }),
  target: one(keywords, { fields: [relationships.targetKeywordId], references: [keywords.id], relationName: "target" }),
  owner: one(users, { fields: [relationships.userId], references: [users.id] }),
}));

export type Relationship = typeof relationships.$inferSelect;
export type NewRelationship = typeof relationships.$inferInsert;
