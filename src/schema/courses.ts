import { relations } from "drizzle-orm";
import { boolean, index, pgTable, text } from "drizzle-orm/pg-core";
import { id, timestamps } from "./columns.js";
import { ownerColumn, ownerPolicies } from "./ownership.js";
import { users } from "./users.js";
import { courseDocuments } from "./course-documents.js";

export const courses = pgTable(
  "courses",
  {
    id: id(),
    ...ownerColumn(),
    title: text("title").notNull(),
    description: text("description"),
    subject: text("subject"),
    isArchived: boolean("is_archived").notNull().default(false),
    ...timestamps,
  },
  (t) => [
    index("courses_user_id_idx").on(t.userId),
    // search_courses ranks by trigram similarity on the title (and description, less weighted).
    index("courses_title_trgm_idx").using("gin", t.title.op("gin_trgm_ops")),
    index("courses_description_trgm_idx").using("gin", t.description.op("gin_trgm_ops")),
    ...ownerPolicies(t.userId),
  ],
);

export const coursesRelations = relations(courses, ({ one, many }) => ({
  owner: one(users, { fields: [courses.userId], references: [users.id] }),
  documents: many(courseDocuments),
}));

export type Course = typeof courses.$inferSelect;
export type NewCourse = typeof courses.$inferInsert;
