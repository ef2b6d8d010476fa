import { createInsertSchema, createSelectSchema, createUpdateSchema } from "drizzle-zod";
import { z } from "zod";
import { embeddingInput } from "../db/validation.js";
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

/*
 * zod schemas for every table, generated from the Drizzle definitions so they cannot drift:
 * `select` parses a row, `insert` a new row (columns with defaults optional), `update` a
 * partial change. The ranges the database CHECKs are repeated as refinements, so bad input
 * fails in the app with a readable message before any SQL runs.
 */
const embedding = embeddingInput.nullish();
const unit = z.number().min(0).max(1);
const rating = z.number().int().min(1).max(5).nullish();
const percentage = z.number().min(0).max(100);
const seconds = z.number().int().min(0);

export const userSchemas = {
  select: createSelectSchema(users),
  insert: createInsertSchema(users, { email: z.email() }),
  update: createUpdateSchema(users, { email: z.email().optional() }),
};
export const userProfileSchemas = {
  select: createSelectSchema(userProfiles),
  insert: createInsertSchema(userProfiles),
  update: createUpdateSchema(userProfiles),
};
export const courseSchemas = {
  select: createSelectSchema(courses),
  insert: createInsertSchema(courses, { title: (s) => s.min(1) }),
  update: createUpdateSchema(courses, { title: (s) => s.min(1) }),
};
export const courseDocumentSchemas = {
  select: createSelectSchema(courseDocuments),
  insert: createInsertSchema(courseDocuments, { fileSizeBytes: z.number().int().min(0).nullish() }),
  update: createUpdateSchema(courseDocuments, { fileSizeBytes: z.number().int().min(0).nullish() }),
};
export const processedDocumentSchemas = {
  select: createSelectSchema(processedDocuments),
  insert: createInsertSchema(processedDocuments, { embedding }),
  update: createUpdateSchema(processedDocuments, { embedding }),
};
export const chapterSchemas = {
  select: createSelectSchema(chapters),
  insert: createInsertSchema(chapters, { embedding, chapterNumber: z.number().int().min(1) }),
  update: createUpdateSchema(chapters, { embedding, chapterNumber: z.number().int().min(1).optional() }),
};
export const keywordSchemas = {
  select: createSelectSchema(keywords),
  insert: createInsertSchema(keywords, { embedding, importance: unit.optional() }),
  update: createUpdateSchema(keywords, { embedding, importance: unit.optional() }),
};
export const relationshipSchemas = {
  select: createSelectSchema(relationships),
  insert: createInsertSchema(relationships, { strength: unit.optional() }),
  update: createUpdateSchema(relationships, { strength: unit.optional() }),
};
export const userAnnotationSchemas = {
  select: createSelectSchema(userAnnotations),
  insert: createInsertSchema(userAnnotations, { rating }),
  update: createUpdateSchema(userAnnotations, { rating }),
};
export const userProgressSchemas = {
  select: createSelectSchema(userProgress),
  insert: createInsertSchema(userProgress, {
    completionPercentage: percentage.optional(),
    timeSpentSeconds: seconds.optional(),
  }),
  update: createUpdateSchema(userProgress, {
    completionPercentage: percentage.optional(),
    timeSpentSeconds: seconds.optional(),
  }),
};
