import { sql } from "drizzle-orm";
import pg from "pg";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { isEmbedded, type Database } from "../connection.js";
import { ReplicaTargetError } from "../db/errors.js";
import * as schema from "../schema/index.js";

/**
 * Runs `fn` on one database session (one pooled client, or the embedded database), so that an
 * advisory lock, session settings and the migration transaction all share a connection.
 */
async function withSession<T>(db: Database, fn: (session: Database) => Promise<T>): Promise<T> {
  if (isEmbedded(db)) return fn(db);
  const pool = db.$client as pg.Pool;
  const client = await pool.connect();
  try {
    const session = drizzleNodePg(client, { schema }) as unknown as Database;
    poolOf.set(session, pool);
    return await fn(session);
  } finally {
    client.release();
  }
}

/**
 * `withSession` and `withMigrationLock` together: `fn` gets one session and runs while this
 * process holds the migration lock. What migrate, rollback and baseline each run in.
 */
export function withLockedSession<T>(db: Database, fn: (session: Database) => Promise<T>): Promise<T> {
  return withSession(db, (session) => withMigrationLock(session, () => fn(session)));
}

/** Any number will do as long as every deploy of this package uses the same one. */
export const MIGRATION_LOCK_KEY = 7_205_141_309;

/** Where a server session came from, so its migration lock can be held on a connection of its own. */
const poolOf = new WeakMap<Database, pg.Pool>();

/**
 * Holds the migration lock while `fn` runs: a second deploy migrating at the same time waits
 * here, then finds nothing left to do. Refuses (ReplicaTargetError) on a read replica.
 *
 * On a server the lock is a transaction-level advisory lock, held by an open transaction on a
 * connection of its own for as long as `fn` runs. Behind a transaction-mode pooler (pgbouncer,
 * RDS Proxy) that is the only way to keep it: a session-level lock stays on whichever server
 * connection took it while the session's next statements go to others (its unlock too, which
 * then fails), and another client handed that connection would find the lock already its own. An
 * open transaction pins its server connection to us. So `fn` needs two connections at once.
 */
async function withMigrationLock<T>(session: Database, fn: () => Promise<T>): Promise<T> {
  const pool = poolOf.get(session);
  if (!pool) return withSessionLock(session, fn);
  const holder = new pg.Client(pool.options);
  // A holder whose connection dies loses the lock with its transaction; `fn`'s own session
  // reports its failures. Without a listener its "error" would crash the process.
  holder.on("error", () => undefined);
  await holder.connect();
  try {
    await holder.query("BEGIN");
    const { rows } = await holder.query<{ replica: boolean }>("SELECT pg_is_in_recovery() AS replica");
    if (rows[0]!.replica) throw new ReplicaTargetError();
    // The holder sits idle in its transaction while `fn` works: no server timeout may end it.
    await holder.query("SET LOCAL idle_in_transaction_session_timeout = 0");
    // Simple protocol, not a $1 parameter: the unnamed portal of an extended-protocol query
    // keeps a snapshot (backend_xmin) while the holder idles, and CREATE INDEX CONCURRENTLY in a
    // non-transactional migration waits for every older snapshot: it would wait for its own lock.
    await holder.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    return await fn();
  } finally {
    await holder.query("COMMIT").catch(() => undefined);
    await holder.end().catch(() => undefined);
  }
}

/** The embedded database has one session: a session-level lock is all it needs. */
async function withSessionLock<T>(session: Database, fn: () => Promise<T>): Promise<T> {
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
