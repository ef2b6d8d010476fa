// The migrations_log table is part of the schema (src/schema/migrations_log.ts), so drizzle-kit
// knows it and `push` never proposes to drop it; kept here for the importers of this path.
export { migrationsLog, type MigrationLogEntry } from "../schema/migrations_log.js";
