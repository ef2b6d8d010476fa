import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { MigrationLockTimeoutError } from "../db/errors.js";
import { pgMessage } from "./session.js";

/**
 * How migration statements wait for locks. An `ALTER TABLE` queued behind a long query holds
 * its place in the lock queue, and every query on that table queues behind it: the table is
 * down for as long as the long query runs. With `lock_timeout` the statement gives up after a
 * short wait instead, the whole attempt is rolled back (releasing every lock it took), and it is
 * tried again after a pause in which the queued queries run.
 */
export interface LockTimeoutOptions {
  /** How long one statement may wait for a lock, in ms (PostgreSQL's `lock_timeout`). Default 5,000. */
  lockTimeoutMs?: number;
  /** How many times an attempt that timed out is tried again before giving up. Default 10. */
  lockRetries?: number;
  /** Pause before the first retry, in ms, doubling each time up to 30 s. Default 1,000. */
  retryDelayMs?: number;
  /** Called for each lock timeout that will be retried, e.g. to print it. */
  onLockTimeout?: (event: LockTimeoutEvent) => void;
}

export interface LockTimeoutEvent {
  migration: string;
  statement: string;
  /** The attempt that timed out, from 1. */
  attempt: number;
  /** The pause before the next attempt. */
  delayMs: number;
}

/**
 * 5 s: long enough for the row locks of ordinary short transactions (ms) to clear, short enough
 * that requests queued behind a waiting ALTER stall for at most that long per attempt.
 */
const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const DEFAULT_LOCK_RETRIES = 10;
const DEFAULT_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;

/** SQLSTATE 55P03 lock_not_available: what a statement that reached lock_timeout fails with. */
function isLockTimeout(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; typeof e === "object" && e !== null && depth < 10; depth++) {
    if ((e as { code?: unknown }).code === "55P03") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Sets lock_timeout for the current transaction (`local`) or the session. */
export async function setLockTimeout(session: Queryable, options: LockTimeoutOptions, local: boolean): Promise<void> {
  const ms = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  await session.execute(sql`SELECT set_config('lock_timeout', ${`${ms}ms`}, ${local})`);
}

/**
 * Runs `attempt` and runs it again each time it fails with a lock timeout, after a growing
 * pause, at most `lockRetries` times; then throws MigrationLockTimeoutError. `where` says which
 * migration and statement timed out (read from the error when it carries them). Returns the
 * attempt's result and how many retries it took.
 */
export async function withLockRetry<T>(
  options: LockTimeoutOptions,
  where: (error: unknown) => { migration: string; statement: string },
  attempt: () => Promise<T>,
): Promise<{ result: T; retries: number }> {
  const retries = options.lockRetries ?? DEFAULT_LOCK_RETRIES;
  let delay = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  for (let n = 1; ; n++) {
    try {
      return { result: await attempt(), retries: n - 1 };
    } catch (error) {
      if (!isLockTimeout(error)) throw error;
      const { migration, statement } = where(error);
      if (n > retries) {
        throw new MigrationLockTimeoutError(
          migration,
          statement,
          n,
          options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
          pgMessage(error),
          error,
        );
      }
      options.onLockTimeout?.({ migration, statement, attempt: n, delayMs: delay });
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
