/**
 * Every error this package throws on purpose is a `SensaDbError` with a `code` a caller can
 * switch on, and the details of what went wrong and where.
 */
export class SensaDbError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input failed validation; nothing was sent to the database. */
export class ValidationError extends SensaDbError {
  constructor(
    message: string,
    /** One entry per bad field: its path (e.g. `embedding.3`) and what is wrong with it. */
    readonly issues: ReadonlyArray<{ path: string; message: string }>,
  ) {
    super("VALIDATION_FAILED", message);
  }
}

/** The package was asked to run without what it needs, e.g. no DATABASE_URL in production. */
export class ConfigurationError extends SensaDbError {
  constructor(message: string) {
    super("CONFIGURATION", message);
  }
}

/** A migration's statement failed; the whole batch was rolled back. */
export class MigrationError extends SensaDbError {
  constructor(
    readonly migration: string,
    readonly statement: string,
    readonly pgMessage: string,
    cause: unknown,
  ) {
    super(
      "MIGRATION_FAILED",
      `migration ${migration} failed: ${pgMessage}\n  in statement: ${statement.trim().slice(0, 500)}\nNothing was applied: the batch ran in one transaction and was rolled back.`,
      { cause },
    );
  }
}

/** `to` names no pending migration. */
export class MigrationTargetError extends SensaDbError {
  constructor(
    readonly target: string,
    readonly pending: string[],
  ) {
    super("MIGRATION_TARGET", `${target} is not a pending migration (pending: ${pending.join(", ") || "none"})`);
  }
}

/** A migration that a database has applied no longer matches its file. */
export class MigrationChecksumError extends SensaDbError {
  constructor(
    readonly migration: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      "MIGRATION_CHECKSUM_MISMATCH",
      `drizzle/${migration}.sql was edited after this database applied it (applied sha256 ${expected.slice(0, 12)}…, file now ${actual.slice(0, 12)}…). ` +
        `Restore the file (git checkout -- drizzle/${migration}.sql) and put the change in a new migration: npm run db:generate.`,
    );
  }
}

/** The database has applied a migration this package does not have (it is older than the database). */
export class UnknownMigrationError extends SensaDbError {
  constructor(readonly journalTime: number) {
    super(
      "MIGRATION_UNKNOWN",
      `the database has applied a migration (journal time ${journalTime}) that is not in drizzle/: upgrade @sensa-learn/db before migrating this database.`,
    );
  }
}

/**
 * Why a rollback did not happen, for a caller to switch on:
 * - `ROLLBACK_FAILED`: a statement of a rollback file failed; the transaction was rolled back;
 * - `ROLLBACK_WOULD_DESTROY_DATA`: a step would drop tables or columns holding rows (pass `force`);
 * - `ROLLBACK_FILE_MISSING`: a migration to undo has no drizzle/rollback/<name>.sql;
 * - `ROLLBACK_TARGET`: `to` or `expectLast` names no applied migration (or both were given).
 */
export type RollbackErrorCode =
  "ROLLBACK_FAILED" | "ROLLBACK_WOULD_DESTROY_DATA" | "ROLLBACK_FILE_MISSING" | "ROLLBACK_TARGET";

/** A rollback was refused or failed (`code` says which); either way nothing was changed. */
export class RollbackError extends SensaDbError {
  declare readonly code: RollbackErrorCode;
  constructor(message: string, options?: { cause?: unknown; code?: RollbackErrorCode }) {
    super(options?.code ?? "ROLLBACK_FAILED", message, options);
  }
}

/** An inspect report cannot run here: an extension, a privilege or a server feature it needs is missing; the message says which and how to get it. */
export class InspectUnavailableError extends SensaDbError {
  constructor(
    /** What is missing, e.g. `pg_stat_statements` or `pg_signal_backend`. */
    readonly requirement: string,
    message: string,
  ) {
    super("INSPECT_UNAVAILABLE", message);
  }
}

/** Why a connection could not be opened; `code` is `CONNECTION_<reason>`. */
export type ConnectionFailure = "TLS" | "TIMEOUT" | "REFUSED" | "REJECTED";

/**
 * A connection to the database could not be opened: TLS verification failed, no answer within
 * the connect timeout, nothing listening, or the server rejected the login. The message names
 * the server (never the password) and what to try.
 */
export class ConnectionError extends SensaDbError {
  constructor(
    readonly reason: ConnectionFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`CONNECTION_${reason}`, message, options);
  }
}

/**
 * A migration statement kept reaching `lock_timeout` (another session held a lock it needs)
 * and was retried until the retries ran out. Each attempt was rolled back whole.
 */
export class MigrationLockTimeoutError extends SensaDbError {
  constructor(
    readonly migration: string,
    readonly statement: string,
    readonly attempts: number,
    readonly lockTimeoutMs: number,
    readonly pgMessage: string,
    cause: unknown,
  ) {
    super(
      "MIGRATION_LOCK_TIMEOUT",
      `migration ${migration} could not get a lock in ${attempts} attempts of ${lockTimeoutMs} ms each (${pgMessage})\n  in statement: ${statement.trim().slice(0, 500)}\n` +
        `Each attempt was rolled back. Find what holds the lock (sensa-db inspect blocking, or long-running), let it finish, and migrate again.`,
      { cause },
    );
  }
}

/**
 * A statement of a non-transactional migration failed. The statements before it are committed;
 * the migration is not recorded as applied, so the next `migrate` runs it again from its first
 * statement. `invalidIndex` names an INVALID index a failed `CREATE INDEX CONCURRENTLY` left.
 */
export class NonTransactionalMigrationError extends SensaDbError {
  constructor(
    readonly migration: string,
    readonly statement: string,
    readonly pgMessage: string,
    /** How many of its statements ran (and committed) before the failing one. */
    readonly committed: number,
    readonly invalidIndex: string | undefined,
    cause: unknown,
  ) {
    super(
      "MIGRATION_FAILED",
      `migration ${migration} (non-transactional) failed: ${pgMessage}\n  in statement: ${statement.trim().slice(0, 500)}\n` +
        `It ran outside a transaction: the ${committed} statement(s) before this one stay committed, and it is not recorded as applied, so the next migrate runs it again from its first statement.` +
        (invalidIndex
          ? `\nIt left the INVALID index ${invalidIndex} behind (unused by queries, still updated by writes): the next migrate drops it and builds it again; to give up on it instead, DROP INDEX CONCURRENTLY ${invalidIndex}.`
          : ""),
      { cause },
    );
  }
}

/**
 * `rollback` found, once it held the migration lock, that the migrations it had planned to
 * undo are no longer the last applied ones (another rollback or a migrate ran in between). It
 * changed nothing rather than undo more than was asked.
 */
export class RollbackPlanChangedError extends SensaDbError {
  constructor(
    readonly planned: string[],
    readonly found: string[],
  ) {
    super(
      "ROLLBACK_PLAN_CHANGED",
      `this rollback planned to undo ${planned.join(", ") || "nothing"}, but once it held the migration lock the migrations to undo were ${found.join(", ") || "none"}: ` +
        `another rollback or migrate ran meanwhile. Nothing was changed; check sensa-db status and roll back again if still needed.`,
    );
  }
}

/**
 * `baseline` refused to record migrations as applied: the live schema differs from what they
 * build (`drift` lists what is extra, missing or changed), or the database already has
 * migrations recorded.
 */
export class BaselineRefusedError extends SensaDbError {
  constructor(
    message: string,
    readonly drift: { extra: string[]; missing: string[]; changed: string[] } | undefined,
  ) {
    super("BASELINE_REFUSED", message);
  }
}

/**
 * `migrate` or `rollback` connected to a server in recovery (a read replica, a hot standby), where
 * nothing can be written: connect them to the primary (the writer endpoint), never a replica.
 */
export class ReplicaTargetError extends SensaDbError {
  constructor() {
    super(
      "REPLICA_TARGET",
      "refusing to migrate: the server is a read replica (in recovery, read-only). Connect to the primary (RDS's writer endpoint), not a replica or its reader endpoint.",
    );
  }
}
