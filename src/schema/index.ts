// The platform's schema: 5 enums, 10 tables and the migrations log, one file each, re-exported here
// for Drizzle (and drizzle-kit: a table missing here is one `push` would propose to drop).
export * from "./enums.js";
export { EMBEDDING_DIMENSIONS } from "./columns.js";
export * from "./users.js";
export * from "./user-profiles.js";
export * from "./courses.js";
export * from "./course-documents.js";
export * from "./processed-documents.js";
export * from "./chapters.js";
export * from "./keywords.js";
export * from "./relationships.js";
export * from "./user-annotations.js";
export * from "./user-progress.js";
export * from "./migrations-log.js";
export { adminRole, inheritedCourseColumn, ownerColumn, ownerPolicies, ownerPolicyNames } from "./ownership.js";
export { userOwnedTables, type UserOwnedTable } from "./user-owned.js";
