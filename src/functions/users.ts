import { z } from "zod";
import type { Queryable } from "../db/transaction.js";
import type { User } from "../schema/users.js";
import { parseInput } from "../db/validation.js";
import { findOrCreateUserFunction } from "./declarations.js";

const signInInput = z.object({
  cognitoSub: z.string().trim().min(1).max(255),
  email: z.email().max(320),
  displayName: z.string().trim().min(1).max(200).optional(),
});

/**
 * `find_or_create_user`: the platform user for a signed-in Cognito user, created on their first
 * sign-in with role 'user'. Call it as the app login (a member of sensa_app), inside or outside
 * a context: it is how a request learns the user id to pass to `withUserContext`. It returns
 * only that user's own row; an email already registered to another user throws a
 * UniqueViolationError on `users_email_unique` (inside a context; `toDatabaseError` otherwise).
 *
 * ```ts
 * const me = await findOrCreateUser(db, { cognitoSub: claims.sub, email: claims.email, displayName: claims.name });
 * const mine = await withUserContext(db, me.id, (tx) => tx.select().from(courses));
 * ```
 */
export async function findOrCreateUser(
  db: Queryable,
  input: { cognitoSub: string; email: string; displayName?: string },
): Promise<User> {
  const { cognitoSub, email, displayName } = parseInput(signInInput, input, "findOrCreateUser");
  const [user] = await findOrCreateUserFunction.call(db, [cognitoSub, email, displayName ?? null]);
  return user!;
}
