import pg from "pg";
import { ConnectionError } from "../db/errors.js";
import { describeTarget, type ConnectionTarget } from "./target.js";

/**
 * Defaults for every pool this package opens; any of them can be overridden through
 * `createDb({ pool })`. Chosen so that a dead or silent server fails a request within seconds
 * instead of hanging it, and so that connections are seen for what they are in pg_stat_activity.
 */
export const POOL_DEFAULTS = {
  max: 10,
  /** Opening a connection and checking one out of a full pool both give up after this. */
  connectionTimeoutMillis: 10_000,
  /** Idle connections close well before NAT gateways (350 s) or RDS Proxy drop them silently. */
  idleTimeoutMillis: 30_000,
  /** TCP keepalive, so a peer that vanished without a reset (a failover) is noticed. */
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
} satisfies pg.PoolConfig;

export const DEFAULT_APPLICATION_NAME = "@sensa-learn/db";

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/** Set on a client while it is checked out: its (idempotent) release. */
const RELEASE = Symbol("release");
type Guarded = pg.PoolClient & { [RELEASE]?: (err?: Error | boolean) => void };

/**
 * A `pg.Pool` that survives connections dying under it, and whose connect failures are
 * `ConnectionError`s naming the server and what to do. `pool.query` and Drizzle go through
 * `connect` too, so every caller gets the same behaviour.
 *
 * Every client gets a permanent "error" listener when it is created. A client whose socket dies
 * emits "error" even while checked out, when pg-pool's own listener is detached, and with no
 * listener Node would crash the process. The listener also hands such a client back to the pool
 * at once: the query in flight has its error already, and a holder that never releases it (Drizzle's
 * `db.transaction` does not when its BEGIN fails) would otherwise keep a dead connection counted
 * against `max` for ever, and `closeDb` waiting on it. Release is made idempotent for that.
 */
export class SensaPool extends pg.Pool {
  constructor(
    config: pg.PoolConfig,
    readonly target: ConnectionTarget,
  ) {
    super(config);
    this.on("connect", (client: Guarded) => client.on("error", (error) => client[RELEASE]?.(error)));
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const translate = (error: Error) =>
      connectionError(error, this.target, this.options.connectionTimeoutMillis) ?? error;
    if (callback)
      return super.connect((err, client, done) => callback(err ? translate(err) : err, client && guard(client), done));
    return super.connect().then(guard, (error: Error) => {
      throw translate(error);
    });
  }
}

function guard(client: Guarded): pg.PoolClient {
  const release = client.release.bind(client);
  const once = (err?: Error | boolean) => {
    if (client[RELEASE] !== once) return;
    delete client[RELEASE];
    release(err);
  };
  client[RELEASE] = once;
  client.release = once;
  return client;
}

const TLS_VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** What a failed connect means for a person, or `undefined` to pass the error on unchanged. */
function connectionError(error: Error, target: ConnectionTarget, timeoutMillis?: number): ConnectionError | undefined {
  const code = (error as { code?: string }).code;
  const where = describeTarget(target);
  if (code && TLS_VERIFY_CODES.has(code)) {
    const hint =
      code === "ERR_TLS_CERT_ALTNAME_INVALID"
        ? "connect by the name the certificate carries, or use sslmode=verify-ca to check the CA only"
        : target.sslRootCert
          ? `is ${target.sslRootCert} the CA that signed the server's certificate?`
          : "trusted are Node's roots and Amazon RDS's CAs; pass ssl.ca or PGSSLROOTCERT with the CA that signed it";
    return new ConnectionError("TLS", `TLS verification of ${where} failed: ${error.message} (${code}); ${hint}`, {
      cause: error,
    });
  }
  if (/does not support SSL/i.test(error.message)) {
    return new ConnectionError(
      "TLS",
      `${where}: the server does not accept TLS connections, but sslmode is ${target.sslMode}`,
      { cause: error },
    );
  }
  if (/timeout exceeded when trying to connect/.test(error.message)) {
    return new ConnectionError(
      "TIMEOUT",
      `no pooled connection to ${where} became free within ${timeoutMillis} ms (every connection is busy: raise pool.max or find the slow queries)`,
      { cause: error },
    );
  }
  if (/connection timeout/i.test(error.message) || code === "ETIMEDOUT") {
    return new ConnectionError(
      "TIMEOUT",
      `${where} did not complete a connection within ${timeoutMillis} ms (is the host, port and security group right? a server that accepts TCP but never answers looks like this)`,
      { cause: error },
    );
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "EAI_AGAIN") {
    return new ConnectionError("REFUSED", `cannot reach ${where}: ${error.message}`, { cause: error });
  }
  if (code === "28000" || code === "28P01") {
    const hint = /no encryption/.test(error.message)
      ? " (the server accepts only TLS: set PGSSLMODE=require or ?sslmode=require)"
      : "";
    return new ConnectionError("REJECTED", `${where} rejected the login: ${error.message}${hint}`, { cause: error });
  }
  return undefined;
}
