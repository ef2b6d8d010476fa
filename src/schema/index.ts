// The platform's schema: 5 enums and 10 tables, one file each, re-exported here for Drizzle.
export * from "./enums.js";
export { EMBEDDING_DIMENSIONS } from "./columns.js";
export * from "./users.js";
export * from "./user_profiles.js";
export * from "./courses.js";
export * from "./course_documents.js";
export * from "./processed_documents.js";
export * from "./chapters.js";
export * from "./keywords.js";
export * from "./relationships.js";
export * from "./user_annotations.js";
export * from "./user_progress.js";
