import { sql } from "drizzle-orm";
import type { Queryable } from "../context.js";
import { parseInput, uuidInput } from "../validation.js";

/**
 * `set_current_user_id`: sets the RLS user for the rest of the *session*, as the spec's psql
 * and Python examples do. On a pooled connection the setting outlives your request and reaches
 * the next borrower: use `withUserContext` there. This is for a connection you hold yourself.
 *
 * ```ts
 * await setCurrentUserId(client, userId);
 * ```
 */
export async function setCurrentUserId(db: Queryable, userId: string): Promise<void> {
  const id = parseInput(uuidInput, userId, "setCurrentUserId");
  await db.execute(sql`SELECT set_current_user_id(${id}::uuid)`);
}
