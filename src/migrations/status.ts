import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { queryRows } from "../db/query.js";
import { readApplied } from "./applied.js";
import { readMigrations } from "./files.js";

export interface MigrationStatus {
  name: string;
  state: "applied" | "pending" | "changed since applied";
  /** When it was last applied, from migrations_log; null when pending or not logged. */
  appliedAt: Date | null;
}

/**
 * Every migration of drizzle/ and whether this database has applied it, with the date from
 * migrations_log. Changes nothing.
 *
 * ```ts
 * for (const m of await migrationStatus(db)) console.log(m.name, m.state);
 * ```
 */
export async function migrationStatus(db: Database, migrationsFolder?: string): Promise<MigrationStatus[]> {
  const files = readMigrations(migrationsFolder);
  const applied = new Map((await readApplied(db)).map((a) => [a.journalTime, a.hash]));
  const [hasLog] = await queryRows(db, sql`SELECT to_regclass('public.migrations_log') IS NOT NULL AS exists`);
  const logged = new Map<string, Date>();
  if (hasLog?.exists) {
    const rows = await queryRows(
      db,
      sql`SELECT DISTINCT ON (migration_name) migration_name, applied_at FROM migrations_log WHERE direction = 'up' ORDER BY migration_name, applied_at DESC`,
    );
    for (const r of rows) logged.set(String(r.migration_name), new Date(r.applied_at as string));
  }
  return files.map((f) => {
    const hash = applied.get(f.journalTime);
    const state = hash === undefined ? "pending" : hash === f.hash ? "applied" : "changed since applied";
    return { name: f.name, state, appliedAt: hash === undefined ? null : (logged.get(f.name) ?? null) };
  });
}
