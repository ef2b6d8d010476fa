import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { queryRows } from "../functions/rows.js";

/** A row of Drizzle's own bookkeeping, `drizzle.__drizzle_migrations`. */
export interface AppliedMigration {
  hash: string;
  journalTime: number;
}

export const MIGRATIONS_SCHEMA = "drizzle";
export const MIGRATIONS_TABLE = "__drizzle_migrations";

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
