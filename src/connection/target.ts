import { userInfo } from "node:os";
import { ConfigurationError } from "../db/errors.js";

/** libpq's `sslmode` values, plus node-postgres's `no-verify` (encrypt, verify nothing). */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * Where to connect, resolved once from a url, `DATABASE_URL` or libpq's `PG*` variables. The
 * library (`createDb`), the CLI, the test harness and the bench all get theirs from
 * `resolveTarget`, so a setting means the same thing everywhere.
 */
export interface ConnectionTarget {
  host: string;
  port: number;
  user: string;
  /** Absent with IAM authentication (a token is signed per connection) or trust/peer auth. */
  password: string | undefined;
  database: string;
  /** `undefined` when nothing asked for one: no TLS, unless IAM authentication needs it. */
  sslMode: SslMode | undefined;
  /** A file with the CA certificate(s) to trust instead of the defaults (PGSSLROOTCERT), or `system`. */
  sslRootCert: string | undefined;
  applicationName: string | undefined;
  /** From `connect_timeout` in the url or PGCONNECT_TIMEOUT, in seconds as libpq counts them. */
  connectTimeoutSeconds: number | undefined;
  /** Sign a short-lived RDS IAM token as the password (`DATABASE_IAM_AUTH=true`). */
  iam: boolean;
  /** What the target came from, for messages. */
  source: "url" | "DATABASE_URL" | "PG* variables";
}

export type Env = Record<string, string | undefined>;

export interface ResolveTargetOptions {
  /** Wins over everything in `env`. */
  url?: string;
  /** Where to read `DATABASE_URL` and the `PG*` variables; the callers pass `process.env`. */
  env: Env;
}

/**
 * The server to connect to: `url`, else `DATABASE_URL`, else libpq's variables when `PGHOST` is
 * set (how ECS hands over credentials from Secrets Manager without building a URL around the
 * password). Fields a url leaves out come from the `PG*` variables, then libpq's defaults, as
 * libpq and node-postgres do. Returns `undefined` when none is configured.
 *
 * ```ts
 * const target = resolveTarget({ env: process.env });
 * // PGHOST=db.example PGSSLMODE=require → { host: "db.example", port: 5432, sslMode: "require", … }
 * ```
 *
 * @throws ConfigurationError on an unparseable url, port or sslmode.
 */
export function resolveTarget(options: ResolveTargetOptions): ConnectionTarget | undefined {
  // An empty variable is an unset one (a template that left PGSSLMODE= blank means "default").
  const env = Object.fromEntries(Object.entries(options.env).filter(([, v]) => v !== undefined && v !== ""));
  const url = options.url ?? env.DATABASE_URL;
  if (url) return fromUrl(url, env, options.url ? "url" : "DATABASE_URL");
  if (env.PGHOST) return fromParams({}, env, "PG* variables");
  return undefined;
}

function fromUrl(url: string, env: Env, source: ConnectionTarget["source"]): ConnectionTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigurationError(
      `${source === "url" ? "the connection url" : source} is not a valid url (postgres://user:password@host:port/database)`,
    );
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new ConfigurationError(`${source} must start with postgres:// or postgresql://, not ${u.protocol}//`);
  }
  const q = u.searchParams;
  const sslmode = q.get("sslmode") ?? (q.get("ssl") === "true" || q.get("ssl") === "1" ? "require" : undefined);
  return fromParams(
    {
      host: q.get("host") ?? (u.hostname ? decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, "$1") : undefined),
      port: q.get("port") ?? (u.port || undefined),
      user: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
      sslmode: sslmode ?? undefined,
      sslrootcert: q.get("sslrootcert") ?? undefined,
      application_name: q.get("application_name") ?? undefined,
      connect_timeout: q.get("connect_timeout") ?? undefined,
    },
    env,
    source,
  );
}

type Params = Partial<
  Record<
    | "host"
    | "port"
    | "user"
    | "password"
    | "database"
    | "sslmode"
    | "sslrootcert"
    | "application_name"
    | "connect_timeout",
    string
  >
>;

function fromParams(p: Params, env: Env, source: ConnectionTarget["source"]): ConnectionTarget {
  const user = p.user ?? env.PGUSER ?? userInfo().username;
  const port = Number(p.port ?? env.PGPORT ?? 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigurationError(`invalid port ${p.port ?? env.PGPORT} (from ${source})`);
  const sslMode = p.sslmode ?? env.PGSSLMODE;
  if (sslMode !== undefined && !(SSL_MODES as readonly string[]).includes(sslMode)) {
    throw new ConfigurationError(`invalid sslmode "${sslMode}" (from ${source}): use one of ${SSL_MODES.join(", ")}`);
  }
  const timeout = p.connect_timeout ?? env.PGCONNECT_TIMEOUT;
  const connectTimeoutSeconds = timeout === undefined || timeout === "" ? undefined : Number(timeout);
  if (connectTimeoutSeconds !== undefined && !(connectTimeoutSeconds >= 0))
    throw new ConfigurationError(`invalid connect_timeout "${timeout}" (from ${source}): seconds`);
  return {
    host: p.host ?? env.PGHOST ?? "localhost",
    port,
    user,
    password: p.password ?? env.PGPASSWORD,
    database: p.database ?? env.PGDATABASE ?? user,
    sslMode: sslMode as SslMode | undefined,
    sslRootCert: p.sslrootcert ?? env.PGSSLROOTCERT,
    applicationName: p.application_name ?? env.PGAPPNAME,
    // libpq treats 0 as "wait for ever"; so does node-postgres.
    connectTimeoutSeconds,
    iam: /^(1|true|yes)$/i.test(env.DATABASE_IAM_AUTH ?? ""),
    source,
  };
}

/** The target for a person to read: never the password. */
export function describeTarget(t: ConnectionTarget): string {
  const tls = t.sslMode && !["disable", "allow", "prefer"].includes(t.sslMode) ? `, TLS ${t.sslMode}` : "";
  return `PostgreSQL ${t.user}@${t.host}:${t.port}/${t.database}${tls}${t.iam ? ", IAM auth" : ""} (from ${t.source})`;
}

/** The same server, another database (e.g. a scratch database for `verify`). */
export function withDatabase(t: ConnectionTarget, database: string): ConnectionTarget {
  return { ...t, database };
}
