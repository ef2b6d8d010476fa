// @sensa-learn/db: the public API. The schema is also importable alone from "@sensa-learn/db/schema".
export * from "./schema/index.js";
export * from "./schema/zod.js";
export {
  createDb,
  closeDb,
  resolveDb,
  isEmbedded,
  type Database,
  type Schema,
  type CreateDbOptions,
  type ResolveOptions,
  type ResolvedDb,
} from "./connection.js";
export { createEmbeddedDb, wrapPglite, embeddedExtensions, type CreateEmbeddedDbOptions } from "./embedded.js";
export { withUserContext, withAdmin, type Transaction, type Queryable, type ContextOptions } from "./context.js";
export { migrate, type MigrateOptions, type MigrateResult } from "./migrations/migrate.js";
export { migrationsLog, type MigrationLogEntry } from "./migrations/log-table.js";
export * from "./functions/vector_search.js";
export * from "./functions/text_search.js";
export * from "./functions/stats.js";
export * from "./functions/session_context.js";
export * from "./errors.js";
