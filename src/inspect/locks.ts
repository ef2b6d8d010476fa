import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { num, queryRows, str, strOrNull } from "../db/query.js";
import { HIDDEN_SESSIONS_NOTE, readAccess } from "./access.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface LockRow {
  pid: number;
  role: string | null;
  /** The locked relation (`public.courses`), or the lock type when it is not on one (`transactionid`, `advisory`). */
  target: string;
  mode: string;
  granted: boolean;
  /** How long the holder's transaction (or the waiter's query) has been running. */
  ageMs: number | null;
  state: string | null;
  query: string | null;
}

export interface BlockingRow {
  blockedPid: number;
  blockedRole: string | null;
  blockedQuery: string | null;
  /** How long the blocked query has been waiting (since it started). */
  waitingMs: number | null;
  blockingPid: number;
  blockingRole: string | null;
  blockingState: string | null;
  blockingQuery: string | null;
  /** Age of the blocking session's transaction: what holds the lock. */
  blockingTransactionMs: number | null;
}

/**
 * The spec's "Check for locks", widened: locks waited for (`NOT granted`, first) and the
 * relation-level locks other sessions of this database hold, with who holds them and for how
 * long. pg_locks is readable by every role; other roles' queries need pg_monitor.
 *
 * ```ts
 * const waiting = (await locks(db)).rows.filter((l) => !l.granted);
 * ```
 */
export async function locks(db: Queryable, options?: ListOptions): Promise<Report<LockRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT l.pid, a.usename AS role,
        CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text ELSE l.locktype END AS target,
        l.mode, l.granted,
        (extract(epoch FROM clock_timestamp() - CASE WHEN l.granted THEN a.xact_start ELSE a.query_start END) * 1000)::float8 AS age_ms,
        a.state, a.query
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.pid <> pg_backend_pid()
        AND (NOT l.granted OR (l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))
        AND (l.relation IS NULL OR l.relation NOT IN (SELECT oid FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace))
      ORDER BY l.granted, age_ms DESC NULLS LAST, l.pid
      LIMIT ${limitOf(options)}`,
  );
  const access = await readAccess(db);
  return {
    rows: rows.map((r) => ({
      pid: num(r.pid),
      role: strOrNull(r.role),
      target: str(r.target),
      mode: str(r.mode),
      granted: Boolean(r.granted),
      ageMs: r.age_ms === null ? null : num(r.age_ms),
      state: strOrNull(r.state),
      query: strOrNull(r.query),
    })),
    notes: access.readAllStats ? [] : [HIDDEN_SESSIONS_NOTE],
  };
}

/**
 * Who blocks whom: each waiting session with each session holding what it waits for
 * (`pg_blocking_pids`, which every role may call, so blocked sessions of other roles are found
 * even without pg_monitor), longest wait first. End the blocker with `terminateBackend`.
 *
 * ```ts
 * for (const b of (await blocking(db)).rows) console.log(`${b.blockingPid} blocks ${b.blockedPid}`);
 * ```
 */
export async function blocking(db: Queryable, options?: ListOptions): Promise<Report<BlockingRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT w.pid AS blocked_pid, w.usename AS blocked_role, w.query AS blocked_query,
        (extract(epoch FROM clock_timestamp() - w.query_start) * 1000)::float8 AS waiting_ms,
        h.pid AS blocking_pid, h.usename AS blocking_role, h.state AS blocking_state, h.query AS blocking_query,
        (extract(epoch FROM clock_timestamp() - h.xact_start) * 1000)::float8 AS blocking_transaction_ms
      FROM pg_stat_activity w
        CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
        JOIN pg_stat_activity h ON h.pid = b.pid
      ORDER BY waiting_ms DESC NULLS LAST, w.pid, h.pid
      LIMIT ${limitOf(options)}`,
  );
  const access = await readAccess(db);
  const ms = (v: unknown) => (v === null ? null : num(v));
  return {
    rows: rows.map((r) => ({
      blockedPid: num(r.blocked_pid),
      blockedRole: strOrNull(r.blocked_role),
      blockedQuery: strOrNull(r.blocked_query),
      waitingMs: ms(r.waiting_ms),
      blockingPid: num(r.blocking_pid),
      blockingRole: strOrNull(r.blocking_role),
      blockingState: strOrNull(r.blocking_state),
      blockingQuery: strOrNull(r.blocking_query),
      blockingTransactionMs: ms(r.blocking_transaction_ms),
    })),
    notes: access.readAllStats ? [] : [HIDDEN_SESSIONS_NOTE],
  };
}
