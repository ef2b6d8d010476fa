// @sensa-learn/db: the public API, for a service talking to a PostgreSQL server. Nothing here
// loads PGlite: the embedded database is "@sensa-learn/db/embedded", a migrated one for tests
// "@sensa-learn/db/testing", and the schema alone "@sensa-learn/db/schema".
export * from "./schema/index.js";
export * from "./schema/zod.js";
export {
  createDb,
  closeDb,
  resolveDb,
  isEmbedded,
  type Database,
  type EmbeddedClient,
  type Schema,
  type CreateDbOptions,
  type ResolveOptions,
  type ResolvedDb,
} from "./connection.js";
export {
  resolveTarget,
  connectionConfig,
  describeTarget,
  withDatabase,
  POOL_DEFAULTS,
  DEFAULT_CA,
  type ConnectionTarget,
  type SslMode,
  type TlsOptions,
  type IamAuthOptions,
} from "./connection.js";
export { withUserContext, withAdmin, type Transaction, type Queryable, type ContextOptions } from "./context.js";
export * from "./replicas.js";
export * from "./db/database-errors.js";
export * from "./schema/constraints.js";
export { migrate, type MigrateOptions, type MigrateResult } from "./migrations/migrate.js";
export { rollback, type RollbackOptions, type RollbackResult, type RollbackStep } from "./migrations/rollback.js";
export { migrationStatus, type MigrationStatus } from "./migrations/status.js";
export { baseline, type BaselineOptions, type BaselineResult } from "./migrations/baseline.js";
export { verify, verifyAppliedChecksums, type VerifyOptions, type VerifyResult } from "./migrations/verify.js";
export type { CatalogDiff } from "./migrations/catalog.js";
export type { MigrationFile } from "./migrations/files.js";
export {
  seed,
  planSeed,
  expectedRows,
  InheritedOwnerMismatchError,
  type SeedOptions,
  type SeedPlan,
  type SeedResult,
  type BulkRestore,
} from "./seed/index.js";
export { ensureAppLogin, APP_LOGIN_TIMEOUTS } from "./app-login.js";
export { migrationsLog, type MigrationLogEntry } from "./schema/migrations-log.js";
export * from "./functions/vector-search.js";
export * from "./functions/text-search.js";
export * from "./functions/stats.js";
export { findOrCreateUser } from "./functions/users.js";
export * from "./inspect/index.js";
export * from "./db/errors.js";
