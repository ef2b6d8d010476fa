import type { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import { ConfigurationError } from "./errors.js";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;

/** The typed Drizzle database, the same API over a PostgreSQL server or embedded PGlite. */
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>> & {
  $client: pg.Pool | PGlite;
};

export interface CreateDbOptions {
  /** A PostgreSQL connection string, e.g. `postgres://user@host:5432/db`. */
  url: string;
  /** Passed to `pg.Pool` (max connections, timeouts, ssl…). */
  pool?: Omit<pg.PoolConfig, "connectionString">;
}

/**
 * Connects to a PostgreSQL server through a `pg` connection pool.
 *
 * ```ts
 * const db = createDb({ url: process.env.DATABASE_URL! });
 * const mine = await withUserContext(db, userId, (tx) => tx.select().from(courses));
 * await closeDb(db);
 * ```
 */
export function createDb(options: CreateDbOptions): Database {
  if (!options.url) throw new ConfigurationError("createDb needs a connection url");
  const pool = new pg.Pool({ ...options.pool, connectionString: options.url });
  return drizzleNodePg(pool, { schema }) as Database;
}

/** True for an embedded (PGlite) database; decided without loading PGlite. */
export function isEmbedded(db: Database): db is Database & { $client: PGlite } {
  return !(db.$client instanceof pg.Pool);
}

/** Releases the pool or stops the embedded database. */
export async function closeDb(db: Database): Promise<void> {
  if (isEmbedded(db)) await db.$client.close();
  else await (db.$client as pg.Pool).end();
}

export interface ResolveOptions {
  /** Overrides `DATABASE_URL`. */
  url?: string;
  /** Where an embedded database keeps its files when no url is given. */
  embeddedDir?: string;
  /** The environment to read `DATABASE_URL` and `NODE_ENV` from; the CLI passes `process.env`. */
  env: Record<string, string | undefined>;
}

export interface ResolvedDb {
  db: Database;
  /** Says which database is in use, for a person to read, without the password. */
  description: string;
}

/**
 * Opens the database a command should use: the given url, `DATABASE_URL` or the `PG*`
 * variables (PGHOST set), else an embedded
 * database in `embeddedDir`. Never falls back silently in production: with `NODE_ENV=production`
 * and no url it throws a ConfigurationError.
 */
export async function resolveDb(options: ResolveOptions): Promise<ResolvedDb> {
  const url = options.url ?? options.env.DATABASE_URL;
  if (url) return { db: createDb({ url }), description: `PostgreSQL at ${redactUrl(url)}` };
  // libpq's variables (PGHOST, PGUSER, PGPASSWORD, …), which node-postgres reads itself: how ECS
  // hands over credentials from Secrets Manager without building a URL around the password.
  if (options.env.PGHOST) {
    return { db: createDb({ url: "postgres://" }), description: `PostgreSQL at ${options.env.PGHOST} (from PG* variables)` };
  }
  if (options.env.NODE_ENV === "production") {
    throw new ConfigurationError(
      "no DATABASE_URL is set and NODE_ENV=production: refusing to use an embedded database. Set DATABASE_URL or pass --url.",
    );
  }
  const dir = options.embeddedDir ?? "./.sensa-db";
  const { createEmbeddedDb } = await import("./embedded.js");
  return { db: await createEmbeddedDb({ dataDir: dir }), description: `embedded PGlite database in ${dir}` };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable url)";
  }
}
