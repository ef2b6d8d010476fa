import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import type { Database } from "../connection.js";
import { num, queryRows, str } from "../db/query.js";
import { readApplied } from "../migrations/applied.js";
import { readMigrations } from "../migrations/files.js";
import { migrationStatus } from "../migrations/status.js";
import { replicationLag } from "../replicas.js";
import { readAccess } from "./access.js";
import { declaredIndexes, guardedTableNames } from "./platform.js";

export interface HealthCheck {
  name:
    | "row-level security"
    | "indexes"
    | "migration checksums"
    | "pending migrations"
    | "replication"
    | "configured replicas";
  ok: boolean;
  /** One line for a person. */
  summary: string;
  /** What needs attention, one entry each, naming the object and what to do. */
  problems: string[];
}

export interface HealthReport {
  /** False when any check found something that needs attention (the CLI then exits 1). */
  ok: boolean;
  checks: HealthCheck[];
}

export interface HealthOptions {
  migrationsFolder?: string;
  /** Replica lag above this needs attention (default 30 s). */
  maxReplicaLagMs?: number;
}

const DEFAULT_MAX_REPLICA_LAG_MS = 30_000;

/**
 * One summary of what only this package knows should be true of a Sensa Learn database:
 * row-level security enabled and forced on every platform table; every index src/schema
 * declares present and valid (an interrupted seed leaves an HNSW index missing, a failed
 * `CREATE INDEX CONCURRENTLY` leaves one INVALID, and the search functions then scan every row);
 * the applied migrations' checksums; pending migrations; replica lag where replicas stream
 * from this server (or this server is one), and replication slots nobody reads. Reads the catalog only: any role that can connect
 * may run it (replica details need pg_monitor).
 *
 * ```ts
 * const { ok, checks } = await health(db);
 * if (!ok) for (const c of checks) for (const p of c.problems) console.warn(`${c.name}: ${p}`);
 * ```
 */
export async function health(db: Database, options: HealthOptions = {}): Promise<HealthReport> {
  const checks = [
    await rowLevelSecurity(db),
    await indexes(db),
    ...(await migrations(db, options.migrationsFolder)),
    await replication(db, options.maxReplicaLagMs ?? DEFAULT_MAX_REPLICA_LAG_MS),
    ...(await configuredReplicas(db, options.maxReplicaLagMs ?? DEFAULT_MAX_REPLICA_LAG_MS)),
  ];
  return { ok: checks.every((c) => c.ok), checks };
}

const check = (name: HealthCheck["name"], problems: string[], okSummary: string): HealthCheck => ({
  name,
  ok: problems.length === 0,
  summary: problems.length === 0 ? okSummary : `${problems.length} problem(s)`,
  problems,
});

async function rowLevelSecurity(db: Queryable): Promise<HealthCheck> {
  const expected = guardedTableNames();
  const rows = await queryRows(
    db,
    sql`SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')`,
  );
  const found = new Map(rows.map((r) => [str(r.relname), r]));
  const problems = expected.flatMap((table) => {
    const row = found.get(table);
    if (!row) return [`${table}: table missing (sensa-db migrate, then sensa-db verify)`];
    if (!row.relrowsecurity)
      return [
        `${table}: row-level security is not enabled: every role with a grant sees every row (ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY, or re-apply its policy file through a migration)`,
      ];
    if (!row.relforcerowsecurity)
      return [
        `${table}: row-level security is not forced: the owner (and anything running as it) bypasses the policies (ALTER TABLE ${table} FORCE ROW LEVEL SECURITY)`,
      ];
    return [];
  });
  return check("row-level security", problems, `enabled and forced on all ${expected.length} platform tables`);
}

async function indexes(db: Queryable): Promise<HealthCheck> {
  const declared = declaredIndexes();
  const rows = await queryRows(
    db,
    sql`SELECT ic.relname AS name, t.relname AS table, am.amname AS method, x.indisvalid AS valid, x.indisready AS ready
      FROM pg_index x
        JOIN pg_class ic ON ic.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_am am ON am.oid = ic.relam
      WHERE ic.relnamespace = 'public'::regnamespace`,
  );
  const found = new Map(rows.map((r) => [str(r.name), r]));
  const label = (search: string | null) => (search === "hnsw" ? "HNSW " : search === "trigram" ? "trigram " : "");
  const problems: string[] = [];
  for (const index of declared) {
    const row = found.get(index.name);
    const what = `${label(index.search)}index ${index.name} on ${index.table}(${index.columns.join(", ")})`;
    if (!row) {
      problems.push(
        `${what} is missing${index.search ? ": searches on it scan every row" : ""} (an interrupted seed or a dropped index; sensa-db verify shows the drift, re-create it from src/schema)`,
      );
    } else if (!row.valid || !row.ready) {
      problems.push(
        `${what} is INVALID (a failed CREATE INDEX CONCURRENTLY or an interrupted build): the planner ignores it; sensa-db maintain rebuilds it with REINDEX CONCURRENTLY`,
      );
    } else if (str(row.method) !== index.method) {
      problems.push(`${what} uses ${str(row.method)}, not ${index.method}`);
    }
  }
  const declaredNames = new Set(declared.map((i) => i.name));
  for (const row of rows) {
    if (!declaredNames.has(str(row.name)) && (!row.valid || !row.ready)) {
      problems.push(
        `index ${str(row.name)} on ${str(row.table)} is INVALID: sensa-db maintain rebuilds it, or drop it`,
      );
    }
  }
  const search = declared.filter((i) => i.search).length;
  return check(
    "indexes",
    problems,
    `all ${declared.length} declared indexes present and valid (${search} HNSW / trigram)`,
  );
}

async function migrations(db: Database, migrationsFolder: string | undefined): Promise<HealthCheck[]> {
  const status = await migrationStatus(db, migrationsFolder);
  const known = new Set(readMigrations(migrationsFolder).map((f) => f.journalTime));
  const unknown = (await readApplied(db)).filter((a) => !known.has(a.journalTime));
  const changed = status.filter((s) => s.state === "changed since applied");
  const pending = status.filter((s) => s.state === "pending");
  const applied = status.length - pending.length;
  return [
    check(
      "migration checksums",
      [
        ...changed.map(
          (s) =>
            `drizzle/${s.name}.sql was edited after this database applied it: restore it (git checkout) and put the change in a new migration`,
        ),
        ...unknown.map(
          (a) =>
            `the database applied a migration this package does not have (journal time ${a.journalTime}): upgrade @sensa-learn/db`,
        ),
      ],
      `${applied} applied migration(s) match their files`,
    ),
    check(
      "pending migrations",
      pending.map((s) => `${s.name} is not applied: sensa-db migrate`),
      `none: the database is at ${status.filter((s) => s.state !== "pending").at(-1)?.name ?? "nothing"}`,
    ),
  ];
}

async function replication(db: Queryable, maxLagMs: number): Promise<HealthCheck> {
  const [standby] = await queryRows(
    db,
    sql`SELECT pg_is_in_recovery() AS standby,
      CASE WHEN pg_is_in_recovery() THEN
        CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000 END
      END AS lag_ms`,
  );
  if (standby?.standby) {
    const lag = standby.lag_ms === null ? null : num(standby.lag_ms);
    const problems =
      lag === null
        ? ["this server is a replica that has replayed nothing yet"]
        : lag > maxLagMs
          ? [`this replica is ${Math.round(lag / 1000)} s behind its primary (limit ${maxLagMs / 1000} s)`]
          : [];
    return check("replication", problems, `this server is a replica, ${Math.round((lag ?? 0) / 1000)} s behind`);
  }
  // A slot nobody streams from: its replica is disconnected, and the WAL it has not read stays on disk.
  const inactiveSlots = (
    await queryRows(
      db,
      sql`SELECT slot_name AS name, slot_type AS type FROM pg_replication_slots WHERE NOT active ORDER BY slot_name`,
    )
  ).map(
    (r) =>
      `replication slot ${str(r.name)} (${str(r.type)}) is inactive: its consumer is disconnected and the server keeps WAL for it (pg_drop_replication_slot once it is gone for good)`,
  );
  const replicas = await queryRows(
    db,
    sql`SELECT coalesce(application_name, client_addr::text, pid::text) AS name, state,
        (extract(epoch FROM replay_lag) * 1000)::float8 AS lag_ms FROM pg_stat_replication`,
  );
  if (replicas.length === 0) return check("replication", inactiveSlots, "no replica streams from this server");
  const problems = inactiveSlots.concat(
    replicas.flatMap((r) => {
      if (r.lag_ms !== null && num(r.lag_ms) > maxLagMs)
        return [`replica ${str(r.name)} is ${Math.round(num(r.lag_ms) / 1000)} s behind (limit ${maxLagMs / 1000} s)`];
      if (r.state !== null && r.state !== "streaming")
        return [`replica ${str(r.name)} is ${str(r.state)}, not streaming`];
      return [];
    }),
  );
  const hidden = replicas.every((r) => r.state === null) && !(await readAccess(db)).readAllStats;
  return check(
    "replication",
    problems,
    `${replicas.length} replica(s)${hidden ? " (their lag is hidden from this role: GRANT pg_monitor)" : ", lag within limits"}`,
  );
}

/**
 * The replicas `db` itself reads from (`createDb({ replicaUrls })`, DATABASE_REPLICA_URLS or
 * PGHOST_REPLICAS), measured from their side as the read-only contexts' routing measures them:
 * one that does not answer, is not in recovery, or lags past the limit needs attention.
 */
async function configuredReplicas(db: Database, maxLagMs: number): Promise<HealthCheck[]> {
  const lags = await replicationLag(db);
  if (lags.length === 0) return [];
  const problems = lags.flatMap((r) => {
    if (r.lagMs === null) return [`replica ${r.replica} does not answer: read-only contexts run on the primary`];
    if (r.inRecovery === false)
      return [`${r.replica} is not a replica (not in recovery): promoted, or listed by mistake`];
    if (r.lagMs > maxLagMs)
      return [`replica ${r.replica} is ${Math.round(r.lagMs / 1000)} s behind (limit ${maxLagMs / 1000} s)`];
    return [];
  });
  return [
    check(
      "configured replicas",
      problems,
      `${lags.length} configured replica(s) answering, within ${maxLagMs / 1000} s`,
    ),
  ];
}
