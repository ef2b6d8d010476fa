import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import type { Queryable } from "../db/transaction.js";
import { queryRows } from "../db/query.js";
import type { MigrationFile } from "./files.js";

/** A row of Drizzle's own bookkeeping, `drizzle.__drizzle_migrations`. */
export interface AppliedMigration {
  hash: string;
  journalTime: number;
}

/** Creates Drizzle's bookkeeping table exactly as Drizzle's own migrator does. */
export async function ensureBookkeeping(db: Database): Promise<void> {
  await db.execute(sql`CREATE SCHEMA IF NOT EXISTS drizzle`);
  await db.execute(
    sql`CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
  );
}

/** What the database has applied, oldest first; empty when it has never been migrated. */
export async function readApplied(db: Database): Promise<AppliedMigration[]> {
  const [table] = await queryRows(db, sql`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists`);
  if (!table?.exists) return [];
  const rows = await queryRows(db, sql`SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at`);
  return rows.map((r) => ({ hash: String(r.hash), journalTime: Number(r.created_at) }));
}

/**
 * Records a migration as applied, as Drizzle's migrator does: the `log_migration` trigger on
 * this table writes its migrations_log row (named by the `sensa.migration_name` setting).
 */
export async function recordApplied(tx: Queryable, migration: MigrationFile): Promise<void> {
  await tx.execute(
    sql`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES (${migration.hash}, ${migration.journalTime})`,
  );
}

/** Forgets a migration that was undone, so that `migrate` (or drizzle-kit) applies it again. */
export async function forgetApplied(tx: Queryable, migration: MigrationFile): Promise<void> {
  await tx.execute(sql`DELETE FROM drizzle.__drizzle_migrations WHERE created_at = ${migration.journalTime}`);
}
