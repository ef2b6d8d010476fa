import type pg from "pg";
import { ConfigurationError } from "../db/errors.js";
import { describeTarget, resolveTarget, type ConnectionTarget, type Env } from "./target.js";

/** How read-only contexts choose among read replicas; `createDb({ replicas })` overrides any of these. */
export const REPLICA_DEFAULTS = {
  /** A replica whose replay is further behind the primary than this is skipped (its reads would be stale). */
  maxLagMs: 5_000,
  /** A measured lag is reused for this long before the replica is asked again (one cheap query). */
  lagCheckIntervalMs: 1_000,
  /** A replica that did not answer is left alone for this long; meanwhile reads go elsewhere. */
  retryAfterMs: 5_000,
};

export type ReplicaPolicy = typeof REPLICA_DEFAULTS;

export interface ReplicaDbOptions {
  /**
   * Read replicas for `withUserContext(db, id, fn, { readOnly: true })`: connection strings, each
   * resolved like `url`. Default: `DATABASE_REPLICA_URLS` (comma-separated urls), else
   * `PGHOST_REPLICAS` (comma-separated `host` or `host:port`, everything else as the primary's
   * `PG*`), read only when the primary itself comes from the environment, not from `url`.
   */
  replicaUrls?: string[];
  /** Over `REPLICA_DEFAULTS`: lag bound, lag check interval, how long a silent replica is skipped. */
  replicas?: Partial<ReplicaPolicy>;
}

/** Counts since `createDb`, per database: where read-only contexts ran, and why not on a replica. */
export interface ReplicaStats {
  /** Read-only contexts that ran on a replica. */
  onReplica: number;
  /** Read-only contexts that ran on the primary because no replica qualified. */
  onPrimary: number;
  /** Times a replica was passed over: it did not answer (connect, lag check, or lost mid-context). */
  unreachable: number;
  /** …because it lagged more than `maxLagMs`. */
  lagging: number;
  /** …because it had not yet replayed the `minLsn` a read-your-writes context asked for. */
  behindLsn: number;
}

/** One replica's lag, as `replicationLag` measures it. */
export interface ReplicaLag {
  /** The replica, for a person to read (never the password). */
  replica: string;
  /**
   * How far its data is behind the primary, in ms: 0 when it has replayed all it received from
   * a live stream; otherwise the age of the last transaction it replayed. `null`: it did not answer.
   */
  lagMs: number | null;
  /** The last WAL position it replayed (`pg_last_wal_replay_lsn()`), e.g. `0/3000148`. */
  replayLsn: string | null;
  /** False when the server is not in recovery (a promoted replica, or a primary listed by mistake). */
  inRecovery: boolean | null;
}

// Without a streaming WAL receiver (the primary is gone, or the link broke) "replayed everything it
// received" says nothing, so the age of the last replayed transaction counts instead.
const LAG_QUERY = `SELECT pg_is_in_recovery() AS in_recovery,
  pg_last_wal_replay_lsn()::text AS replay_lsn,
  CASE WHEN NOT pg_is_in_recovery() THEN 0
       WHEN EXISTS (SELECT FROM pg_stat_wal_receiver) AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE COALESCE(GREATEST(EXTRACT(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 0), 0)
  END::float8 AS lag_ms`;

class Replica {
  /** Until when (Date.now()) this replica is skipped after failing to answer. */
  downUntil = 0;
  private measured: { lag: ReplicaLag; at: number } | undefined;
  private measuring: Promise<ReplicaLag> | undefined;

  constructor(
    readonly pool: pg.Pool,
    readonly description: string,
  ) {}

  /** Checked out plus waiting: how busy its pool is. */
  get busy(): number {
    return this.pool.totalCount - this.pool.idleCount + this.pool.waitingCount;
  }

  async measure(): Promise<ReplicaLag> {
    this.measuring ??= this.pool
      .query<{ in_recovery: boolean; replay_lsn: string | null; lag_ms: number }>(LAG_QUERY)
      .then(
        ({ rows: [row] }) => ({
          replica: this.description,
          lagMs: row!.lag_ms,
          replayLsn: row!.replay_lsn,
          inRecovery: row!.in_recovery,
        }),
        () => ({ replica: this.description, lagMs: null, replayLsn: null, inRecovery: null }),
      )
      .then((lag) => {
        this.measured = { lag, at: Date.now() };
        this.measuring = undefined;
        return lag;
      });
    return this.measuring;
  }

  async lag(maxAgeMs: number): Promise<ReplicaLag> {
    if (this.measured && Date.now() - this.measured.at < maxAgeMs) return this.measured.lag;
    return this.measure();
  }

  markDown(retryAfterMs: number): void {
    this.downUntil = Date.now() + retryAfterMs;
    this.measured = undefined;
  }
}

class ReplicaSet {
  private next = 0;
  readonly stats: ReplicaStats = { onReplica: 0, onPrimary: 0, unreachable: 0, lagging: 0, behindLsn: 0 };

  constructor(
    readonly replicas: Replica[],
    readonly policy: ReplicaPolicy,
  ) {}

  /** Those not resting after a failure, least busy first; equally busy ones take turns. */
  candidates(): Replica[] {
    const now = Date.now();
    const start = this.next++ % this.replicas.length;
    const rotated = [...this.replicas.slice(start), ...this.replicas.slice(0, start)];
    return rotated.filter((r) => r.downUntil <= now).sort((a, b) => a.busy - b.busy);
  }
}

const BEGIN = "BEGIN READ ONLY";

// Keyed by the primary's pool: a Database object is a Drizzle wrapper around it.
const sets = new WeakMap<object, ReplicaSet>();

/**
 * The replicas `createDb` should open: `replicaUrls`, else (when the primary came from the
 * environment) `DATABASE_REPLICA_URLS` or `PGHOST_REPLICAS`. Empty when none is configured.
 *
 * @throws ConfigurationError on an unparseable url or host:port.
 */
export function resolveReplicaTargets(
  primary: ConnectionTarget,
  options: ReplicaDbOptions,
  env: Env,
): ConnectionTarget[] {
  const list = (value: string | undefined) =>
    (value ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const urls = options.replicaUrls ?? (primary.source === "url" ? [] : list(env.DATABASE_REPLICA_URLS));
  if (options.replicaUrls || urls.length > 0) return urls.map((url) => resolveTarget({ url, env })!);
  if (primary.source === "url") return [];
  return list(env.PGHOST_REPLICAS).map((hostPort) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
    if (!m) throw new ConfigurationError(`PGHOST_REPLICAS: "${hostPort}" is not host or host:port`);
    return { ...primary, host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port: m[2] ? Number(m[2]) : primary.port };
  });
}

/**
 * Gives the database `primary` (its pool) read replicas: the hook `createDb` calls once it has
 * built the primary's pool, with the same factory for the replicas' pools (TLS, IAM, timeouts).
 */
export function attachReplicas(
  primary: pg.Pool,
  targets: ConnectionTarget[],
  openPool: (t: ConnectionTarget) => pg.Pool,
  policy: Partial<ReplicaPolicy> = {},
): void {
  if (targets.length === 0) return;
  const replicas = targets.map((t) => new Replica(openPool(t), describeTarget(t)));
  sets.set(primary, new ReplicaSet(replicas, { ...REPLICA_DEFAULTS, ...policy }));
}

/** Closes the replicas' pools (`closeDb` calls it); running queries finish first. */
export async function closeReplicas(primary: object): Promise<void> {
  const set = sets.get(primary);
  if (!set) return;
  await Promise.all(set.replicas.map((r) => (r.pool.ending ? undefined : r.pool.end())));
}

/** A checked-out connection for a read-only context, in its open READ ONLY transaction, and where it came from. */
export interface ReadCheckout {
  client: pg.PoolClient;
  /** The replica's description, or undefined for the primary. */
  replica: string | undefined;
  /** Tell the policy the context failed: a lost connection rests the replica for `retryAfterMs`. */
  failed(connectionLost: boolean): void;
}

export interface ReadRouting {
  /** Over the database's `maxLagMs` for this context. */
  maxLagMs?: number;
  /** Read-your-writes: only a replica that has replayed this WAL position (from `primaryLsn`) qualifies. */
  minLsn?: string;
}

/**
 * Checks out a connection for a read-only context and begins its READ ONLY transaction there: on
 * the least busy replica that answers, lags at most `maxLagMs` and (with `minLsn`) has replayed
 * that position, else on the primary. A replica failing anywhere before the transaction began
 * is rested and the next one tried, so it never fails a request; only the primary's errors are
 * thrown.
 */
export async function checkoutForRead(primary: pg.Pool, routing: ReadRouting = {}): Promise<ReadCheckout> {
  const set = sets.get(primary);
  if (set) {
    const maxLagMs = routing.maxLagMs ?? set.policy.maxLagMs;
    for (const replica of set.candidates()) {
      const lag = await replica.lag(set.policy.lagCheckIntervalMs);
      if (lag.lagMs === null) {
        replica.markDown(set.policy.retryAfterMs);
        set.stats.unreachable++;
        continue;
      }
      if (lag.lagMs > maxLagMs) {
        set.stats.lagging++;
        continue;
      }
      let client: pg.PoolClient;
      try {
        client = await replica.pool.connect();
      } catch {
        replica.markDown(set.policy.retryAfterMs);
        set.stats.unreachable++;
        continue;
      }
      let behind = false;
      try {
        if (routing.minLsn !== undefined) {
          const { rows } = await client.query<{ ok: boolean }>(
            "SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, true) AS ok",
            [routing.minLsn],
          );
          behind = !rows[0]!.ok;
        }
        if (!behind) await client.query(BEGIN);
      } catch (error) {
        client.release(error as Error);
        replica.markDown(set.policy.retryAfterMs);
        set.stats.unreachable++;
        continue;
      }
      if (behind) {
        client.release();
        set.stats.behindLsn++;
        continue;
      }
      set.stats.onReplica++;
      return {
        client,
        replica: replica.description,
        failed: (lost) => {
          if (!lost) return;
          replica.markDown(set.policy.retryAfterMs);
          set.stats.unreachable++;
        },
      };
    }
    set.stats.onPrimary++;
  }
  const client = await primary.connect();
  try {
    await client.query(BEGIN);
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  return { client, replica: undefined, failed: () => undefined };
}

/**
 * Measures every replica's lag now (one query each, in parallel), bypassing the cached figure the
 * routing uses; a replica that does not answer reports `lagMs: null`. Empty without replicas.
 *
 * ```ts
 * for (const r of await measureReplicaLag(db.$client)) console.log(r.replica, r.lagMs);
 * ```
 */
export function measureReplicaLag(primary: object): Promise<ReplicaLag[]> {
  const set = sets.get(primary);
  return Promise.all((set?.replicas ?? []).map((r) => r.measure()));
}

/** Where read-only contexts of this database have run so far (all zero without replicas). */
export function readRoutingStats(primary: object): ReplicaStats {
  return { ...(sets.get(primary)?.stats ?? { onReplica: 0, onPrimary: 0, unreachable: 0, lagging: 0, behindLsn: 0 }) };
}
