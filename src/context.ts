import { randomUUID } from "node:crypto";
import type { Transaction as PgliteTx } from "@electric-sql/pglite";
import type pg from "pg";
import { z } from "zod";
import { isEmbedded, type Database } from "./connection.js";
import { checkoutForRead } from "./connection/replicas.js";
import { ContextGate, embeddedTransaction, serverTransaction } from "./context-connection.js";
import { ADMIN_ROLE, APP_ROLE, CURRENT_USER_SETTING } from "./db/constants.js";
import { ContextBrokenError, DatabaseError, isConnectionLost, toDatabaseError } from "./db/database-errors.js";
import type { Transaction } from "./db/transaction.js";
import { parseInput, uuidInput } from "./db/validation.js";

export type { Queryable, Transaction } from "./db/transaction.js";

export interface ContextOptions {
  /** The role to act as; `sensa_app`, the application role, unless told otherwise. */
  role?: string;
  /**
   * Cancels any statement of this context that runs longer (StatementTimeoutError). Default: the
   * login's own `statement_timeout` (`sensa-db app-login` sets 30 s on the app login).
   */
  statementTimeoutMs?: number;
  /** Gives up waiting for a lock after this long (LockTimeoutError). Default: the login's (5 s). */
  lockTimeoutMs?: number;
  /**
   * Runs `fn` again, in a new transaction, up to this many times when the transaction fails with
   * a retryable error (serialization failure, deadlock, lock timeout). Default 0. Only for `fn`
   * whose effects outside the database can be repeated.
   */
  retries?: number;
  /**
   * Runs `fn` in a READ ONLY transaction (a write fails with ReadOnlyTransactionError) on a read
   * replica of `createDb({ replicaUrls })`: the least busy one that answers and lags at most
   * `maxLagMs`, else on the primary. Same user, role and guarantees as on the primary.
   */
  readOnly?: boolean;
  /** With `readOnly`: skip replicas lagging more than this (default `createDb`'s, 5 s). */
  maxLagMs?: number;
  /**
   * With `readOnly`, read-your-writes: only a replica that has replayed this WAL position qualifies
   * (else the primary). Take it with `primaryLsn(db)` right after the write's context returned.
   */
  minLsn?: string;
}

const optionsInput = z.object({
  role: z.string().min(1).max(63).optional(),
  statementTimeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  lockTimeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  readOnly: z.boolean().optional(),
  maxLagMs: z.number().int().min(0).max(86_400_000).optional(),
  minLsn: z
    .string()
    .regex(/^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i, "a WAL position such as 0/3000148")
    .optional(),
});

/**
 * Runs `fn` in a transaction acting for one platform user: row-level security then shows and
 * lets it change only that user's rows. Returns what `fn` returns, after COMMIT.
 *
 * Nothing of the context outlives it on the connection, so a pooled connection (or one behind a
 * transaction-mode pooler such as RDS Proxy or pgbouncer) reaches its next user clean:
 * - the user id, role, `search_path` (pinned to `public, pg_temp`) and timeouts are
 *   transaction-local; session-level settings `fn` made (`SET`, `set_config(…, false)`),
 *   cursors WITH HOLD, LISTENs and advisory locks are undone before COMMIT;
 * - once `fn` settles, `tx` refuses every query (ContextClosedError), so a query `fn` did not
 *   await never runs in someone else's transaction;
 * - `fn` cannot end the transaction itself: COMMIT, ROLLBACK, END, ABORT and PREPARE TRANSACTION
 *   through `tx` are refused (TransactionControlError), one statement per query;
 * - a connection whose COMMIT or ROLLBACK did not complete is destroyed, not returned to the pool.
 *
 * ```ts
 * const myCourses = await withUserContext(db, userId, (tx) => tx.select().from(courses));
 * await withUserContext(db, userId, (tx) => tx.update(userProgress).set(p), { retries: 2, statementTimeoutMs: 2_000 });
 * ```
 * Throws ValidationError when `userId` is not a UUID, before any SQL runs; errors from the
 * database as typed `DatabaseError`s (UniqueViolationError, RowLevelSecurityError,
 * StatementTimeoutError, SerializationError, ConnectionLostError, …).
 */
export async function withUserContext<T>(
  db: Database,
  userId: string,
  fn: (tx: Transaction) => Promise<T>,
  options: ContextOptions = {},
): Promise<T> {
  const id = parseInput(uuidInput, userId, "withUserContext");
  const opts = parseInput(optionsInput, options, "withUserContext options");
  return runInContext(db, { userId: id, role: opts.role ?? APP_ROLE }, fn, opts);
}

/**
 * Runs `fn` in a transaction as `admin_role`, which sees and changes every row, with the same
 * guarantees as `withUserContext`. The connecting user must be a member of admin_role (the
 * migrating owner is; the application login is not).
 *
 * ```ts
 * const everyone = await withAdmin(db, (tx) => tx.select().from(users));
 * ```
 */
export async function withAdmin<T>(
  db: Database,
  fn: (tx: Transaction) => Promise<T>,
  options: Omit<ContextOptions, "role"> = {},
): Promise<T> {
  const opts = parseInput(optionsInput, options, "withAdmin options");
  return runInContext(db, { userId: "", role: ADMIN_ROLE }, fn, opts);
}

interface Identity {
  /** '' for none (admin). */
  userId: string;
  role: string;
}

async function runInContext<T>(
  db: Database,
  who: Identity,
  fn: (tx: Transaction) => Promise<T>,
  options: ContextOptions,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return isEmbedded(db) ? await runEmbedded(db, who, fn, options) : await runOnServer(db, who, fn, options);
    } catch (error) {
      const typed = toDatabaseError(error);
      if (typed instanceof DatabaseError && typed.retryable && attempt < (options.retries ?? 0)) continue;
      throw typed;
    }
  }
}

/**
 * One statement sets the whole context, transaction-locally, and reads the session's own role
 * first so the end of the context can put it back (an embedded database's session may have
 * switched role on purpose; a pooled login's is `none`). `sensa.context` marks the transaction:
 * if it is gone at the end, something inside `fn` ended the transaction the context began.
 */
function contextSetup(who: Identity, options: ContextOptions, marker: string): { text: string; values: string[] } {
  const settings: Array<[string, string]> = [
    ["sensa.context", marker],
    [CURRENT_USER_SETTING, who.userId],
    // pg_temp last: no temporary object can stand in for a platform table, even for a login
    // that may create them.
    ["search_path", "public, pg_temp"],
  ];
  if (options.statementTimeoutMs !== undefined) settings.push(["statement_timeout", `${options.statementTimeoutMs}ms`]);
  if (options.lockTimeoutMs !== undefined) settings.push(["lock_timeout", `${options.lockTimeoutMs}ms`]);
  settings.push(["role", who.role]); // last: the settings above are made as the login
  const calls = settings.map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, true)`);
  return {
    text: `SELECT pg_catalog.current_setting('role') AS session_role, ${calls.join(", ")}`,
    values: settings.flat(),
  };
}

/**
 * Undoes whatever `fn` changed at session level, so nothing of it outlives the context: inside
 * the transaction before COMMIT, or after a ROLLBACK (which undoes settings by itself, but not
 * advisory locks). Its first statement reads the transaction's marker.
 */
function contextTeardown(sessionRole: string): string {
  const role = sessionRole === "none" ? "NONE" : `"${sessionRole.replace(/"/g, '""')}"`;
  // Schema-qualified: it runs under whatever search_path fn left, which may shadow these names.
  return `SELECT pg_catalog.current_setting('sensa.context', true) AS marker; CLOSE ALL; UNLISTEN *; SELECT pg_catalog.pg_advisory_unlock_all(); RESET ALL; SET SESSION ROLE ${role}`;
}

type Results = Array<{ rows: Array<Record<string, unknown>> }>;
const markerOf = (results: Results) => results[0]?.rows[0]?.marker;

async function runOnServer<T>(
  db: Database,
  who: Identity,
  fn: (tx: Transaction) => Promise<T>,
  options: ContextOptions,
): Promise<T> {
  const pool = db.$client as pg.Pool;
  // Read-only contexts may run on a replica (src/connection/replicas.ts); the rest on the primary.
  const checkout = options.readOnly ? await checkoutForRead(pool, options) : undefined;
  const client = checkout?.client ?? (await pool.connect());
  // Whether the connection is known to be idle, outside any transaction, and so safe to reuse.
  let reusable = false;
  let sessionRole = "none";
  const marker = randomUUID();
  const gate = new ContextGate(client as never, true);
  try {
    if (!checkout) await client.query("BEGIN"); // a read-only checkout comes in its READ ONLY transaction
    const setup = contextSetup(who, options, marker);
    const { rows } = await client.query<{ session_role: string }>(setup.text, setup.values);
    sessionRole = rows[0]!.session_role;
    let result: T;
    try {
      result = await fn(serverTransaction(db, gate));
    } finally {
      gate.close();
    }
    const ended = (await client.query(`${contextTeardown(sessionRole)}; COMMIT`)) as unknown as Results;
    if (markerOf(ended) !== marker) throw new ContextBrokenError();
    reusable = true;
    return result;
  } catch (error) {
    if (!(error instanceof ContextBrokenError)) {
      try {
        // One round trip; a COMMIT that failed has ended the transaction already, and ROLLBACK
        // outside one only warns.
        await client.query(`ROLLBACK; ${contextTeardown(sessionRole)}`);
        reusable = true;
      } catch {
        // The connection is broken or still busy (a client-side query_timeout leaves the timed-out
        // statement running and our ROLLBACK unsent): it must not serve anyone again.
      }
    }
    checkout?.failed(isConnectionLost(error));
    throw error;
  } finally {
    gate.close();
    client.release(reusable ? undefined : new Error("sensa-db: context ended without COMMIT or ROLLBACK completing"));
  }
}

async function runEmbedded<T>(
  db: Database,
  who: Identity,
  fn: (tx: Transaction) => Promise<T>,
  options: ContextOptions,
): Promise<T> {
  // PGlite's own transaction: it serialises callers on its single session and commits when the
  // callback resolves, rolls back when it throws.
  const pglite = db.$client as unknown as EmbeddedClient;
  const session = { role: "none" };
  try {
    return await pglite.transaction(async (ptx) => {
      const marker = randomUUID();
      const gate = new ContextGate(ptx as never, false);
      if (options.readOnly) await ptx.query("SET TRANSACTION READ ONLY");
      const setup = contextSetup(who, options, marker);
      const { rows } = await ptx.query<{ session_role: string }>(setup.text, setup.values);
      session.role = rows[0]!.session_role;
      let result: T;
      try {
        result = await fn(await embeddedTransaction(db, gate));
      } finally {
        gate.close();
      }
      if (markerOf(await ptx.exec(contextTeardown(session.role))) !== marker) throw new ContextBrokenError();
      return result;
    });
  } catch (error) {
    await pglite.exec(contextTeardown(session.role)).catch(() => undefined);
    throw error;
  }
}

interface EmbeddedClient {
  transaction<R>(cb: (tx: PgliteTx) => Promise<R>): Promise<R>;
  exec(query: string): Promise<Results>;
}
