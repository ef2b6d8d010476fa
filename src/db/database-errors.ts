import { ConnectionError, SensaDbError } from "./errors.js";
import type { CheckConstraint, ForeignKeyConstraint, UniqueConstraint } from "../schema/constraints.js";

/**
 * An error PostgreSQL (or the connection to it) raised, typed by what a caller does about it.
 * `withUserContext` and `withAdmin` throw these; `toDatabaseError` converts any other error the
 * same way. The driver's error stays the `cause`.
 *
 * ```ts
 * try {
 *   await withUserContext(db, userId, (tx) => tx.insert(courses).values(course));
 * } catch (error) {
 *   if (error instanceof UniqueViolationError && error.constraint === "course_documents_s3_key_unique") …
 * }
 * ```
 */
export class DatabaseError extends SensaDbError {
  /** Whether running the same work again in a new transaction may succeed (see `retries`). */
  readonly retryable: boolean = false;
  constructor(
    code: string,
    message: string,
    /** PostgreSQL's SQLSTATE, e.g. `23505`; undefined for a connection that failed below SQL. */
    readonly sqlState: string | undefined,
    cause: unknown,
  ) {
    super(code, message, { cause });
  }
}

/** 23505: a row would duplicate another in a unique constraint. */
export class UniqueViolationError extends DatabaseError {
  constructor(
    readonly constraint: UniqueConstraint | undefined,
    message: string,
    cause: unknown,
  ) {
    super("UNIQUE_VIOLATION", message, "23505", cause);
  }
}

/**
 * 23503: a reference to a row that does not exist. Also raised by the owner-copying triggers
 * when the parent exists but row-level security hides it (then `constraint` is undefined).
 */
export class ForeignKeyViolationError extends DatabaseError {
  constructor(
    readonly constraint: ForeignKeyConstraint | undefined,
    message: string,
    cause: unknown,
  ) {
    super("FOREIGN_KEY_VIOLATION", message, "23503", cause);
  }
}

/** 23514: a CHECK constraint, or a rule a trigger enforces (e.g. a processing status move). */
export class CheckViolationError extends DatabaseError {
  constructor(
    readonly constraint: CheckConstraint | undefined,
    message: string,
    cause: unknown,
  ) {
    super("CHECK_VIOLATION", message, "23514", cause);
  }
}

/** 23502: a required column was null. */
export class NotNullViolationError extends DatabaseError {
  constructor(
    readonly column: string | undefined,
    message: string,
    cause: unknown,
  ) {
    super("NOT_NULL_VIOLATION", message, "23502", cause);
  }
}

/** 42501 "new row violates row-level security policy": a write outside the current user's rows. */
export class RowLevelSecurityError extends DatabaseError {
  constructor(message: string, cause: unknown) {
    super("RLS_VIOLATION", message, "42501", cause);
  }
}

/** 42501 otherwise: the role may not do this at all (a table, column, function or setting). */
export class PermissionDeniedError extends DatabaseError {
  constructor(message: string, cause: unknown) {
    super("PERMISSION_DENIED", message, "42501", cause);
  }
}

/** 57014 from statement_timeout: the statement ran longer than allowed and was cancelled. */
export class StatementTimeoutError extends DatabaseError {
  constructor(message: string, cause: unknown) {
    super("STATEMENT_TIMEOUT", message, "57014", cause);
  }
}

/** 55P03 from lock_timeout: waited too long for a lock another transaction holds. */
export class LockTimeoutError extends DatabaseError {
  override readonly retryable = true;
  constructor(message: string, cause: unknown) {
    super("LOCK_TIMEOUT", message, "55P03", cause);
  }
}

/** 40001 / 40P01: the transaction lost a serialization race or a deadlock. Retry it. */
export class SerializationError extends DatabaseError {
  override readonly retryable = true;
  constructor(sqlState: "40001" | "40P01", message: string, cause: unknown) {
    super(sqlState === "40P01" ? "DEADLOCK" : "SERIALIZATION_FAILURE", message, sqlState, cause);
  }
}

/**
 * The connection broke (the backend was terminated, the server restarted or became unreachable,
 * a client-side timeout fired). Whether a COMMIT in flight took effect is unknown, so it is not
 * retried automatically.
 */
export class ConnectionLostError extends DatabaseError {
  constructor(message: string, sqlState: string | undefined, cause: unknown) {
    super("CONNECTION_LOST", message, sqlState, cause);
  }
}

/**
 * A query was issued on a context's transaction after the context had ended (a query not awaited
 * inside `fn`, or a query builder awaited after it returned). It never reached a connection: that
 * connection may already serve another user.
 */
export class ContextClosedError extends SensaDbError {
  constructor() {
    super(
      "CONTEXT_CLOSED",
      "query on a transaction whose withUserContext/withAdmin has already ended: await every query inside fn (it was not sent)",
    );
  }
}

/**
 * `fn` tried to end the context's transaction itself (COMMIT, ROLLBACK, END, ABORT, PREPARE
 * TRANSACTION). The context owns it: return from `fn` to commit, throw to roll back. Not sent.
 */
export class TransactionControlError extends SensaDbError {
  constructor(readonly statement: string) {
    super(
      "TRANSACTION_CONTROL",
      `a context's transaction is ended by the context, not by fn: return to commit, throw to roll back (refused, not sent: ${statement.trim().slice(0, 80)})`,
    );
  }
}

/**
 * The context's transaction was no longer the one it began when the context ended (something
 * inside `fn` ended it). Its connection was closed; what `fn` wrote may be partly committed.
 */
export class ContextBrokenError extends SensaDbError {
  constructor() {
    super(
      "CONTEXT_BROKEN",
      "the context's transaction was ended inside fn, so its work may be partly committed; the connection was closed",
    );
  }
}

/**
 * `fn` returned normally although a statement inside it had failed (its error caught and
 * ignored): PostgreSQL had aborted the transaction, so nothing of it was committed.
 */
export class TransactionAbortedError extends DatabaseError {
  constructor(cause: unknown) {
    super(
      "TRANSACTION_ABORTED",
      "a statement inside the context failed and the transaction was aborted, so nothing was committed (the failed statement's error was caught inside fn)",
      "25P02",
      cause,
    );
  }
}

interface PgErrorLike {
  code?: string;
  message: string;
  constraint?: string;
  column?: string;
}

/** The error with a SQLSTATE or errno code beneath Drizzle's "Failed query" wrapper, and the innermost error. */
function unwrap(error: unknown): { pg: PgErrorLike | undefined; innermost: unknown } {
  let e: unknown = error;
  let pg: PgErrorLike | undefined;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (!pg && typeof (e as PgErrorLike).code === "string") pg = e as PgErrorLike;
    if (!(e.cause instanceof Error)) break;
    e = e.cause;
  }
  return { pg, innermost: e };
}

/** SQLSTATEs that mean the session is gone: connection exceptions, a terminated backend, an idle transaction cut. */
const LOST_SQLSTATE = /^(?:08[0-9A-Z]{3}|57P0[123]|25P03)$/;
/** What node-postgres and Node say when the socket died, or a client-side query_timeout left it unusable. */
const LOST_MESSAGE =
  /Connection terminated|not queryable|terminating connection|server closed the connection|Client has encountered a connection error|Query read timeout|socket hang up|Client was closed/i;
const LOST_ERRNO = new Set(["ECONNRESET", "EPIPE"]);

/**
 * True when `error` (or anything in its `cause` chain) says the database connection was lost
 * mid-session: the backend was terminated (pg_terminate_backend, a failover, a restart), the
 * socket died, or a client-side timeout gave up on it. A connection that never opened is a
 * ConnectionError instead, and not "lost".
 */
export function isConnectionLost(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ConnectionError) return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (LOST_SQLSTATE.test(code) || LOST_ERRNO.has(code))) return true;
    if (LOST_MESSAGE.test(e.message)) return true;
  }
  return false;
}

/**
 * Converts an error from a query into the typed `DatabaseError` it stands for (a plain
 * `DatabaseError` with PostgreSQL's message and SQLSTATE when no subclass fits), or returns it
 * unchanged (validation errors, the package's own errors, anything not from the database).
 */
export function toDatabaseError(error: unknown): unknown {
  if (error instanceof SensaDbError) return error;
  const { pg, innermost } = unwrap(error);
  if (innermost instanceof SensaDbError) return innermost; // e.g. ContextClosedError inside Drizzle's wrapper
  const code = pg?.code;
  const message = pg?.message ?? (innermost instanceof Error ? innermost.message : String(innermost));
  switch (code) {
    case "23505":
      return new UniqueViolationError(pg?.constraint as UniqueConstraint | undefined, message, error);
    case "23503":
      return new ForeignKeyViolationError(pg?.constraint as ForeignKeyConstraint | undefined, message, error);
    case "23514":
      return new CheckViolationError(pg?.constraint as CheckConstraint | undefined, message, error);
    case "23502":
      return new NotNullViolationError(pg?.column, message, error);
    case "42501":
      return /row-level security/i.test(message)
        ? new RowLevelSecurityError(message, error)
        : new PermissionDeniedError(message, error);
    case "57014":
      // Otherwise cancelled from outside (pg_cancel_backend, a client's cancel request).
      return /statement timeout/i.test(message)
        ? new StatementTimeoutError(message, error)
        : new DatabaseError("QUERY_CANCELED", message, code, error);
    case "55P03":
      return new LockTimeoutError(message, error);
    case "25006":
      return new ReadOnlyTransactionError(message, error);
    case "25P02":
      return new TransactionAbortedError(error);
    case "40001":
    case "40P01":
      return new SerializationError(code, message, error);
  }
  if (isConnectionLost(error))
    return new ConnectionLostError(message, code && LOST_SQLSTATE.test(code) ? code : undefined, error);
  if (code && /^[0-9A-Z]{5}$/.test(code)) return new DatabaseError("DATABASE_ERROR", message, code, error);
  return error;
}

/**
 * 25006: a write (INSERT, UPDATE, DELETE, DDL, a sequence's nextval…) inside a read-only context
 * (`withUserContext(db, id, fn, { readOnly: true })`), which may run on a replica. Run it in a
 * context without `readOnly`.
 */
export class ReadOnlyTransactionError extends DatabaseError {
  constructor(message: string, cause: unknown) {
    super("READ_ONLY_TRANSACTION", message, "25006", cause);
  }
}
