import { sql } from "drizzle-orm";
import type pg from "pg";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { isEmbedded, type Database } from "../connection.js";
import * as schema from "../schema/index.js";

/**
 * Runs `fn` on one database session (one pooled client, or the embedded database), so that an
 * advisory lock, session settings and the migration transaction all share a connection.
 */
export async function withSession<T>(db: Database, fn: (session: Database) => Promise<T>): Promise<T> {
  if (isEmbedded(db)) return fn(db);
  const client = await (db.$client as pg.Pool).connect();
  try {
    return await fn(drizzleNodePg(client, { schema }) as unknown as Database);
  } finally {
    client.release();
  }
}

/** Any number will do as long as every deploy of this package uses the same one. */
export const MIGRATION_LOCK_KEY = 7_205_141_309;

/**
 * Holds a session-level advisory lock while `fn` runs: a second deploy migrating at the same
 * time waits here, then finds nothing left to do.
 */
export async function withMigrationLock<T>(session: Database, fn: () => Promise<T>): Promise<T> {
  await session.execute(sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  try {
    return await fn();
  } finally {
    await session.execute(sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
  }
}

/** The message PostgreSQL gave, without Drizzle's "Failed query" wrapper. */
export function pgMessage(error: unknown): string {
  let e: unknown = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
