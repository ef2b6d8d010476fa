import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { uuid_ossp } from "@electric-sql/pglite/contrib/uuid_ossp";
import { vector } from "@electric-sql/pglite-pgvector";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import type { Database } from "./connection.js";
import * as schema from "./schema/index.js";

// The embedded database lives apart from connection.ts so that a service talking to a server
// never loads PGlite (half of the installed size): nothing on the server path imports this file.

export interface CreateEmbeddedDbOptions {
  /** Where PGlite keeps its files; in memory when omitted. */
  dataDir?: string;
}

/** The extensions the schema needs, as PGlite loads them. */
export const embeddedExtensions = { vector, pg_trgm, uuid_ossp };

/**
 * Starts an embedded PostgreSQL (PGlite, in-process WebAssembly) with the `vector`, `pg_trgm` and
 * `uuid-ossp` extensions available, and returns the same typed API as `createDb`. It takes about
 * 2-3 s to start. For trying the package and for tests; production uses `createDb`.
 *
 * ```ts
 * const db = await createEmbeddedDb({ dataDir: "./.sensa-db" });
 * await migrate(db);
 * await closeDb(db);
 * ```
 */
export async function createEmbeddedDb(options: CreateEmbeddedDbOptions = {}): Promise<Database> {
  const client = await PGlite.create({ dataDir: options.dataDir, extensions: embeddedExtensions });
  return wrapPglite(client);
}

/** Wraps an already running PGlite (e.g. a `clone()` of a migrated one) in the typed API. */
export function wrapPglite(client: PGlite): Database {
  return drizzlePglite(client, { schema }) as unknown as Database;
}
