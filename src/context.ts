import { sql } from "drizzle-orm";
import type { Database } from "./connection.js";
import { uuidInput, parseInput } from "./validation.js";

/** A transaction handle, as `db.transaction` passes it: the same typed API as the database. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything a query can run on: the database or a transaction. */
export type Queryable = Database | Transaction;

export interface ContextOptions {
  /** The role to act as; `sensa_app`, the application role, unless told otherwise. */
  role?: string;
}

/**
 * Runs `fn` in a transaction acting for one platform user: row-level security then shows and
 * lets it change only that user's rows. The user id and role are transaction-local
 * (`set_config(..., true)`, `SET LOCAL ROLE`), so they vanish at COMMIT or ROLLBACK: the next
 * user of a pooled connection starts with no context (and sees no rows), and it works behind a
 * transaction-mode pooler (RDS Proxy, pgbouncer), where a session setting would leak.
 *
 * ```ts
 * const myCourses = await withUserContext(db, userId, (tx) => tx.select().from(courses));
 * ```
 * Throws ValidationError when `userId` is not a UUID, before any SQL runs.
 */
export async function withUserContext<T>(
  db: Database,
  userId: string,
  fn: (tx: Transaction) => Promise<T>,
  options: ContextOptions = {},
): Promise<T> {
  const id = parseInput(uuidInput, userId, "withUserContext");
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('app.current_user_id', ${id}, true)`);
    await tx.execute(sql.raw(`SET LOCAL ROLE ${quoteIdent(options.role ?? "sensa_app")}`));
    return fn(tx);
  });
}

/**
 * Runs `fn` in a transaction as `admin_role`, which sees and changes every row. The connecting
 * user must be a member of admin_role (the migrating owner is; the application role is not).
 *
 * ```ts
 * const everyone = await withAdmin(db, (tx) => tx.select().from(users));
 * ```
 */
export async function withAdmin<T>(db: Database, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('app.current_user_id', '', true)`);
    await tx.execute(sql.raw("SET LOCAL ROLE admin_role"));
    return fn(tx);
  });
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
