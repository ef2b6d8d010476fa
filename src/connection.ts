import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import { iamPassword, type IamAuthOptions } from "./connection/iam.js";
import { attachReplicas, closeReplicas, resolveReplicaTargets, type ReplicaDbOptions } from "./connection/replicas.js";
import { DEFAULT_APPLICATION_NAME, POOL_DEFAULTS, SensaPool } from "./connection/pool.js";
import { describeTarget, resolveTarget, type ConnectionTarget, type Env } from "./connection/target.js";
import { tlsConfig, type TlsOptions } from "./connection/tls.js";
import { ConfigurationError } from "./db/errors.js";
import * as schema from "./schema/index.js";

export {
  resolveTarget,
  describeTarget,
  withDatabase,
  type ConnectionTarget,
  type SslMode,
  type Env,
} from "./connection/target.js";
export { DEFAULT_CA, type TlsOptions } from "./connection/tls.js";
export type { IamAuthOptions } from "./connection/iam.js";
export { POOL_DEFAULTS } from "./connection/pool.js";

export type Schema = typeof schema;

/**
 * What this package uses of an embedded database's client (a PGlite), described by its shape so
 * that the public types never need PGlite, an optional peer, to be installed.
 */
export interface EmbeddedClient {
  readonly closed: boolean;
  close(): Promise<void>;
  exec(query: string): Promise<Array<{ rows: Array<Record<string, unknown>> }>>;
  query<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/** The typed Drizzle database, the same API over a PostgreSQL server or embedded PGlite. */
export type Database = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>> & {
  $client: pg.Pool | EmbeddedClient;
};

export interface CreateDbOptions extends ReplicaDbOptions {
  /** A connection string, e.g. `postgres://user@host:5432/db?sslmode=require`; else `DATABASE_URL`, else `PG*`. */
  url?: string;
  /** An already resolved target (from `resolveTarget`); wins over `url` and the environment. */
  target?: ConnectionTarget;
  /** Where `DATABASE_URL` and the `PG*` variables are read; `process.env` by default. */
  env?: Env;
  /** TLS mode and CA, over `PGSSLMODE` / `PGSSLROOTCERT` (see `tlsConfig`). */
  ssl?: TlsOptions;
  /** RDS IAM authentication: sign a token per connection instead of a password (also `DATABASE_IAM_AUTH=true`). */
  iam?: boolean | IamAuthOptions;
  /** Shown in pg_stat_activity; `PGAPPNAME` or `?application_name=` win. Default `@sensa-learn/db`. */
  applicationName?: string;
  /** Over `POOL_DEFAULTS`: max connections, timeouts, keepAlive… (not the target: use `url`/`target`). */
  pool?: Omit<pg.PoolConfig, "connectionString">;
  /**
   * Called when an idle pooled connection dies (a failover, a restart, pg_terminate_backend). The
   * pool has already dropped it and the next query opens a new one. Default: one line on stderr.
   */
  onIdleError?: (error: Error) => void;
}

/**
 * Connects to a PostgreSQL server through a `pg` connection pool that survives the network:
 * an idle or checked-out connection that dies is dropped (the process never crashes on it) and
 * the next query gets a new one; connecting and waiting for a free connection time out after
 * 10 s; TCP keepalive is on; `application_name` is set. Where to connect comes from `url`, else
 * `DATABASE_URL`, else libpq's `PG*` variables, exactly as `sensa-db` reads them. TLS modes
 * `require`, `verify-ca` and `verify-full` verify the server against Node's roots plus Amazon's
 * RDS CAs (or `ssl.ca` / `PGSSLROOTCERT`).
 *
 * ```ts
 * const db = createDb();                                    // DATABASE_URL, or PGHOST/PGUSER/PGPASSWORD/…
 * const db = createDb({ url, ssl: { ca: readFileSync("ca.pem", "utf8") } });
 * const db = createDb({ iam: { region: "eu-west-1" } });   // RDS IAM auth, PGHOST/PGUSER from the environment
 * await closeDb(db);                                        // lets running queries finish
 * ```
 *
 * @throws ConfigurationError when no database is configured or a setting is invalid. Failures to
 *   connect surface on the first query as `ConnectionError` (code `CONNECTION_TLS`, `_TIMEOUT`, …).
 */
export function createDb(options: CreateDbOptions = {}): Database {
  const target = options.target ?? resolveTarget({ url: options.url, env: options.env ?? process.env });
  if (!target)
    throw new ConfigurationError(
      "createDb found no database: pass { url }, or set DATABASE_URL or PGHOST (with PGUSER, PGPASSWORD, PGDATABASE…)",
    );
  const pool = createPool(target, options);
  // Read replicas (src/connection/replicas.ts): pools of their own, built the same way.
  attachReplicas(
    pool,
    resolveReplicaTargets(target, options, options.env ?? process.env),
    (t) => createPool(t, options),
    options.replicas,
  );
  return drizzleNodePg(pool, { schema }) as Database;
}

/**
 * node-postgres's settings for a target: where, who, TLS (`tlsConfig`), the IAM password
 * function, `application_name`. The pool adds `POOL_DEFAULTS`; a lone `pg.Client` (the test
 * harness's and the bench's admin connections) takes this as is, so both connect the same way.
 */
export function connectionConfig(
  t: ConnectionTarget,
  options: Pick<CreateDbOptions, "ssl" | "iam" | "applicationName"> = {},
): pg.ClientConfig {
  const iam = options.iam ?? t.iam;
  const target = iam ? { ...t, iam: true } : t;
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    password: iam ? iamPassword(target, typeof iam === "object" ? iam : {}) : target.password,
    ssl: tlsConfig(target, options.ssl),
    application_name: target.applicationName ?? options.applicationName ?? DEFAULT_APPLICATION_NAME,
    ...(target.connectTimeoutSeconds !== undefined
      ? { connectionTimeoutMillis: target.connectTimeoutSeconds * 1000 }
      : {}),
  };
}

function createPool(target: ConnectionTarget, options: CreateDbOptions): SensaPool {
  const pool = new SensaPool({ ...POOL_DEFAULTS, ...connectionConfig(target, options), ...options.pool }, target);
  const onIdleError =
    options.onIdleError ??
    ((error: Error) =>
      console.warn(
        `@sensa-learn/db: an idle connection to ${describeTarget(target)} was lost (${error.message}); the next query opens a new one`,
      ));
  pool.on("error", onIdleError);
  return pool;
}

/**
 * True for an embedded (PGlite) database; decided without loading PGlite. A pool is also known by
 * its shape, in case a service ends up with a second copy of `pg` whose Pool fails `instanceof`.
 */
export function isEmbedded(db: Database): db is Database & { $client: EmbeddedClient } {
  return !(db.$client instanceof pg.Pool || "totalCount" in db.$client);
}

/**
 * Releases the pool or stops the embedded database. Queries already running finish first (the
 * pool closes each connection as it is returned); new queries are refused. Safe to call twice.
 */
export async function closeDb(db: Database): Promise<void> {
  if (isEmbedded(db)) {
    if (!db.$client.closed) await db.$client.close();
    return;
  }
  const pool = db.$client as pg.Pool;
  await closeReplicas(pool);
  if (!pool.ending) await pool.end();
}

export interface ResolveOptions {
  /** Overrides `DATABASE_URL` and the `PG*` variables. */
  url?: string;
  /** Where an embedded database keeps its files when no server is configured. */
  embeddedDir?: string;
  /** The environment to read `DATABASE_URL`, `PG*` and `NODE_ENV` from; the CLI passes `process.env`. */
  env: Env;
  /** Passed to `createDb` for a server (the CLI names itself and its command). */
  applicationName?: string;
  pool?: CreateDbOptions["pool"];
}

export interface ResolvedDb {
  db: Database;
  /** The server in use; `undefined` for an embedded database. */
  target: ConnectionTarget | undefined;
  /** Says which database is in use, for a person to read, without the password. */
  description: string;
}

/**
 * Opens the database a command should use: the server `resolveTarget` finds (the url,
 * `DATABASE_URL` or the `PG*` variables), else an embedded database in `embeddedDir`. Never falls
 * back silently in production: with `NODE_ENV=production` and no server it throws a
 * ConfigurationError.
 */
export async function resolveDb(options: ResolveOptions): Promise<ResolvedDb> {
  const target = resolveTarget({ url: options.url, env: options.env });
  if (target) {
    return {
      db: createDb({ target, applicationName: options.applicationName, pool: options.pool }),
      target,
      description: describeTarget(target),
    };
  }
  if (options.env.NODE_ENV === "production") {
    throw new ConfigurationError(
      "no database is configured and NODE_ENV=production: refusing to use an embedded database. Set DATABASE_URL or PGHOST (PGUSER, PGPASSWORD…), or pass --url.",
    );
  }
  const dir = options.embeddedDir ?? "./.sensa-db";
  const { createEmbeddedDb } = await loadEmbedded();
  return {
    db: await createEmbeddedDb({ dataDir: dir }),
    target: undefined,
    description: `embedded PGlite database in ${dir}`,
  };
}

/**
 * The embedded database's module, loaded only when one is asked for: PGlite is an optional peer,
 * so a service that installed without it gets a ConfigurationError saying what to install.
 */
export async function loadEmbedded(): Promise<{ createEmbeddedDb(options?: { dataDir?: string }): Promise<Database> }> {
  // The return type is spelled out: naming the module's type would make this file's declarations
  // import embedded.d.ts, and so PGlite's types, in every service.
  try {
    return await import("./embedded.js");
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new ConfigurationError(
      "the embedded database needs @electric-sql/pglite and @electric-sql/pglite-pgvector (optional peers of @sensa-learn/db): install them, or configure a server (DATABASE_URL, PGHOST or --url)",
    );
  }
}
