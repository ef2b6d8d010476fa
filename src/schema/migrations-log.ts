import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The audit trail of schema changes the platform spec asks for
 * (`SELECT * FROM migrations_log ORDER BY applied_at`): one row each time a migration is applied
 * or rolled back, however it was applied. Rows are written by the `log_migration` trigger
 * on Drizzle's own bookkeeping table and by `sensa-db rollback`, never by hand.
 *
 * Created by drizzle/0000_bootstrap.sql (before Drizzle's first schema migration, so the very
 * first migration is logged too); declared here so drizzle-kit knows it (`push` would otherwise
 * propose to drop it). test/drizzle-kit.test.ts checks this definition against the catalog.
 */
export const migrationsLog = pgTable(
  "migrations_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** The migration's file name without `.sql`, e.g. `0001_schema`. */
    migrationName: text("migration_name").notNull(),
    /** sha256 of the migration file, as Drizzle computes it. */
    checksum: text("checksum").notNull(),
    direction: text("direction").notNull(),
    /** `sensa-db`, `migrate()` or `drizzle-kit`: who ran it. */
    appliedVia: text("applied_via").notNull(),
    /** As PostgreSQL prints the default back, so drizzle-kit push sees no change. */
    appliedBy: text("applied_by")
      .notNull()
      .default(sql`CURRENT_USER`),
    appliedAt: timestamp("applied_at", { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
    durationMs: integer("duration_ms"),
  },
  (t) => [
    index("migrations_log_applied_at_idx").on(t.appliedAt),
    check("migrations_log_direction_check", sql`${t.direction} IN ('up', 'down')`),
  ],
);

export type MigrationLogEntry = typeof migrationsLog.$inferSelect;
