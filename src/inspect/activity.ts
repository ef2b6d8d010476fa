import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { InspectUnavailableError, ValidationError } from "../db/errors.js";
import { num, queryRows, str, strOrNull } from "../db/query.js";
import { HIDDEN_SESSIONS_NOTE, readAccess } from "./access.js";
import { INSUFFICIENT_PRIVILEGE, sqlState } from "./pg-error.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface SessionRow {
  pid: number;
  database: string | null;
  role: string | null;
  application: string | null;
  /** `active`, `idle in transaction`…; null when this role may not see it. */
  state: string | null;
  /** Since the current (or last) query started. */
  durationMs: number | null;
  /** Since the transaction started: an old one holds back VACUUM everywhere. */
  transactionMs: number | null;
  waitEvent: string | null;
  query: string | null;
}

export interface LongRunningOptions extends ListOptions {
  /** Only sessions whose query has run at least this long (default 0: every non-idle session, as the spec's query). */
  minDurationMs?: number;
}

/**
 * Client sessions. Without pg_read_all_stats another role's session shows no backend_type (nor
 * state, query or times), only its role and pid: counted as a client when it has a role.
 */
const isClient = sql`(a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL))`;

const sessionColumns = sql`a.pid, a.datname AS database, a.usename AS role, a.application_name AS application, a.state,
  (extract(epoch FROM clock_timestamp() - a.query_start) * 1000)::float8 AS duration_ms,
  (extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::float8 AS transaction_ms,
  nullif(concat_ws(': ', a.wait_event_type, a.wait_event), '') AS wait_event, a.query`;

function sessionRow(r: Record<string, unknown>): SessionRow {
  return {
    pid: num(r.pid),
    database: strOrNull(r.database),
    role: strOrNull(r.role),
    application: strOrNull(r.application),
    state: strOrNull(r.state),
    durationMs: r.duration_ms === null ? null : num(r.duration_ms),
    transactionMs: r.transaction_ms === null ? null : num(r.transaction_ms),
    waitEvent: strOrNull(r.wait_event),
    query: strOrNull(r.query),
  };
}

/**
 * The spec's "Find expensive queries": client sessions that are not idle (including `idle in
 * transaction`), longest running first, on every database of the server. Without
 * pg_read_all_stats (pg_monitor) the state and query of other roles' sessions are hidden, which
 * the notes say; the sessions are still listed.
 *
 * ```ts
 * const { rows } = await longRunning(db, { minDurationMs: 60_000 });
 * ```
 */
export async function longRunning(db: Queryable, options: LongRunningOptions = {}): Promise<Report<SessionRow>> {
  const min = options.minDurationMs ?? 0;
  const rows = await queryRows(
    db,
    sql`SELECT ${sessionColumns}
      FROM pg_stat_activity a
      WHERE a.pid <> pg_backend_pid() AND ${isClient} AND a.state IS DISTINCT FROM 'idle'
        AND coalesce(extract(epoch FROM clock_timestamp() - a.query_start) * 1000, 0) >= ${min}
      ORDER BY a.query_start ASC NULLS LAST
      LIMIT ${limitOf(options)}`,
  );
  const access = await readAccess(db);
  return { rows: rows.map(sessionRow), notes: access.readAllStats ? [] : [HIDDEN_SESSIONS_NOTE] };
}

/** One session, as `sensa-db inspect long-running --terminate <pid>` shows it before asking. */
export async function describeBackend(db: Queryable, pid: number): Promise<SessionRow | null> {
  const [row] = await queryRows(db, sql`SELECT ${sessionColumns} FROM pg_stat_activity a WHERE a.pid = ${pid}`);
  return row ? sessionRow(row) : null;
}

export interface TerminateResult {
  pid: number;
  terminated: boolean;
  /** Why not, when not. */
  reason: string | null;
  session: SessionRow | null;
}

/**
 * The spec's "Kill long-running query": `pg_terminate_backend(pid)`, ending that session and
 * rolling back its transaction. Refuses this session's own pid. The owner may end its own
 * sessions; others need pg_signal_backend (RDS: through rds_superuser), and nobody but a
 * superuser may end a superuser's: InspectUnavailableError says so. Confirmation is the
 * caller's job (the CLI asks, or takes `--yes`).
 *
 * ```ts
 * const { terminated } = await terminateBackend(db, 4242);
 * ```
 */
export async function terminateBackend(db: Queryable, pid: number): Promise<TerminateResult> {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new ValidationError(`pid must be a positive integer, got ${pid}`, [
      { path: "pid", message: "a positive integer" },
    ]);
  const session = await describeBackend(db, pid);
  if (!session) return { pid, terminated: false, reason: "no server process has that pid", session: null };
  try {
    // One statement, so "own backend" is judged on the connection that would send the signal.
    const [row] = await queryRows(
      db,
      sql`SELECT ${pid} = pg_backend_pid() AS own, CASE WHEN ${pid} = pg_backend_pid() THEN false ELSE pg_terminate_backend(${pid}) END AS ok`,
    );
    if (row?.own) return { pid, terminated: false, reason: "that is this session's own backend", session };
    return {
      pid,
      terminated: Boolean(row?.ok),
      reason: row?.ok ? null : "the process ended before it could be signalled",
      session,
    };
  } catch (error) {
    if (sqlState(error) === INSUFFICIENT_PRIVILEGE) {
      throw new InspectUnavailableError(
        "pg_signal_backend",
        `may not terminate pid ${pid} (role ${session.role ?? "unknown"}): a role may end only its own sessions unless it is a member of pg_signal_backend (GRANT pg_signal_backend TO it; on RDS rds_superuser has it), and only a superuser may end a superuser's`,
      );
    }
    throw error;
  }
}

export interface ConnectionRow {
  role: string | null;
  /** `active`, `idle`, `idle in transaction`…; `hidden` when this role may not see it. */
  state: string;
  count: number;
}

export interface ConnectionsReport extends Report<ConnectionRow> {
  /** Client connections on the whole server, what RDS's DatabaseConnections metric counts. */
  total: number;
  maxConnections: number;
  /** Reserved for superusers: ordinary roles can open max_connections minus these. */
  reservedConnections: number;
  usedRatio: number;
  /** The CloudWatch alarm's line: 80% of max_connections (infra/src/constructs/monitoring.ts). */
  alarmAt: number;
  alarm: boolean;
}

/** The infra's alarm (infra config rdsConnectionsPercent: 80, GREATER_THAN floor(max x 80%)): the same line here. */
export const CONNECTION_ALARM_RATIO = 0.8;

/**
 * Client connections per role and state, against max_connections and the alarm's 80% line.
 * Without pg_read_all_stats (pg_monitor) other roles' states read `hidden`; counts are right.
 *
 * ```ts
 * const { total, maxConnections, alarm } = await connections(db);
 * ```
 */
export async function connections(db: Queryable, options?: ListOptions): Promise<ConnectionsReport> {
  const rows = await queryRows(
    db,
    sql`SELECT a.usename AS role, coalesce(a.state, 'hidden') AS state, count(*)::int AS count
      FROM pg_stat_activity a WHERE ${isClient}
      GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
      LIMIT ${limitOf(options)}`,
  );
  const [totals] = await queryRows(
    db,
    sql`SELECT (SELECT count(*)::int FROM pg_stat_activity a WHERE ${isClient}) AS total,
      current_setting('max_connections')::int AS max_connections,
      current_setting('superuser_reserved_connections')::int AS reserved`,
  );
  const total = num(totals!.total);
  const maxConnections = num(totals!.max_connections);
  const alarmAt = Math.floor(maxConnections * CONNECTION_ALARM_RATIO);
  const access = await readAccess(db);
  return {
    rows: rows.map((r) => ({ role: strOrNull(r.role), state: str(r.state), count: num(r.count) })),
    notes: access.readAllStats ? [] : [HIDDEN_SESSIONS_NOTE],
    total,
    maxConnections,
    reservedConnections: num(totals!.reserved),
    usedRatio: total / maxConnections,
    alarmAt,
    alarm: total > alarmAt,
  };
}
