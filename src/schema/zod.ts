import { createInsertSchema, createSelectSchema, createUpdateSchema } from "drizzle-zod";
import {
  chapters,
  courseDocuments,
  courses,
  keywords,
  processedDocuments,
  relationships,
  userAnnotations,
  userProfiles,
  userProgress,
  users,
} from "./index.js";

/**
 * zod schemas for every table, generated from the Drizzle definitions so they cannot drift:
 * `select` parses a row, `insert` a new row (defaults optional), `update` a partial change.
 * Ranges that the database CHECKs are repeated here so bad input fails before any SQL runs.
 */
const tableSchemas = <T extends Parameters<typeof createSelectSchema>[0]>(table: T) => ({
  select: createSelectSchema(table),
  insert: createInsertSchema(table),
  update: createUpdateSchema(table),
});

export const userSchemas = tableSchemas(users);
export const userProfileSchemas = tableSchemas(userProfiles);
export const courseSchemas = tableSchemas(courses);
export const courseDocumentSchemas = tableSchemas(courseDocuments);
export const processedDocumentSchemas = tableSchemas(processedDocuments);
export const chapterSchemas = tableSchemas(chapters);
export const keywordSchemas = tableSchemas(keywords);
export const relationshipSchemas = tableSchemas(relationships);
export const userAnnotationSchemas = tableSchemas(userAnnotations);
export const userProgressSchemas = tableSchemas(userProgress);
