import { sql } from "drizzle-orm";
import { isEmbedded, type Database } from "./connection.js";
import { measureReplicaLag, readRoutingStats, type ReplicaLag, type ReplicaStats } from "./connection/replicas.js";

export {
  REPLICA_DEFAULTS,
  type ReplicaDbOptions,
  type ReplicaLag,
  type ReplicaPolicy,
  type ReplicaStats,
} from "./connection/replicas.js";

/**
 * Measures how far each read replica of `db` is behind the primary, now (one query per replica,
 * in parallel). The routing of read-only contexts uses the same measure, cached for
 * `lagCheckIntervalMs`, and skips a replica lagging more than `maxLagMs`. Empty without replicas
 * or on an embedded database; a replica that does not answer reports `lagMs: null`.
 *
 * ```ts
 * const db = createDb({ url, replicaUrls: [replicaUrl] });
 * for (const { replica, lagMs } of await replicationLag(db)) metrics.gauge("db.replica_lag_ms", lagMs ?? -1, { replica });
 * ```
 */
export async function replicationLag(db: Database): Promise<ReplicaLag[]> {
  return isEmbedded(db) ? [] : measureReplicaLag(db.$client);
}

/**
 * Counts, since `createDb`, of where read-only contexts ran (`onReplica`, `onPrimary`) and why a
 * replica was passed over (`unreachable`, `lagging`, `behindLsn`). For metrics and tests.
 *
 * ```ts
 * const { onReplica, onPrimary } = replicaStats(db);
 * ```
 */
export function replicaStats(db: Database): ReplicaStats {
  return readRoutingStats(db.$client);
}

/**
 * The primary's current WAL position, for read-your-writes: taken right after a write's context
 * returned, then passed as `minLsn` to a read-only context, which then runs only on a replica that
 * has replayed at least that far (else on the primary).
 *
 * ```ts
 * await withUserContext(db, userId, (tx) => tx.insert(courses).values(course));
 * const minLsn = await primaryLsn(db);
 * const mine = await withUserContext(db, userId, (tx) => tx.select().from(courses), { readOnly: true, minLsn });
 * ```
 */
export async function primaryLsn(db: Database): Promise<string> {
  // Both drivers' results carry `rows`; Drizzle types the result per driver.
  const { rows } = (await db.execute(sql`SELECT pg_current_wal_lsn()::text AS lsn`)) as unknown as {
    rows: Array<{ lsn: string }>;
  };
  return rows[0]!.lsn;
}
