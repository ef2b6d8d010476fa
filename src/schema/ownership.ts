import { getTableName, sql } from "drizzle-orm";
import { pgPolicy, pgRole, uuid, type PgColumn, type PgPolicy } from "drizzle-orm/pg-core";
import { ownerDefault } from "./columns.js";
import { courses } from "./courses.js";
import { users } from "./users.js";
import { ADMIN_ROLE } from "../db/constants.js";

/*
 * How a table says "my rows belong to one user", in the table's own file:
 *
 *   export const flashcards = pgTable("flashcards", {
 *     id: id(),
 *     chapterId: uuid("chapter_id").notNull().references(() => chapters.id, { onDelete: "cascade" }),
 *     ...inheritedCourseColumn(),
 *     ...ownerColumn(),
 *     ...
 *   }, (t) => [...ownerPolicies(t.userId)]);
 *
 * and one entry in userOwnedTables (user-owned.ts) saying where the owner comes from. The tests
 * in test/schema-ownership.test.ts check everything else a user-owned table needs against that
 * list: the inherit_owner trigger, FORCEd row-level security, the grants, the seed's load order.
 */

// The table modules import these helpers and this module imports two tables (for the foreign
// keys, read lazily): function declarations, so the helpers exist whichever module loads first.

/** Created by sql/roles/roles.sql, not by drizzle-kit, which never creates or drops it. */
export const adminRole = pgRole(ADMIN_ROLE).existing();

/**
 * `user_id`, the owning user of a row. Row-level security filters every user-data table by this
 * one indexed column, so policies never join up the ownership chain. It defaults to the RLS
 * context's user; on child tables the `inherit_owner` trigger overwrites it with the parent's
 * owner, so it can never disagree with the chain it summarises.
 */
export function ownerColumn() {
  return {
    userId: uuid("user_id")
      .notNull()
      .default(ownerDefault)
      .references(() => users.id, { onDelete: "cascade" }),
  };
}

/**
 * `course_id`, copied from the parent row by the `inherit_owner` trigger before the NOT NULL
 * constraint is checked. Inserts may leave it out: Drizzle then sends `DEFAULT` (the column has
 * no default, so NULL, which the trigger replaces), and the insert types make it optional.
 */
export function inheritedCourseColumn() {
  return {
    courseId: uuid("course_id")
      .notNull()
      .$defaultFn(() => sql`DEFAULT`)
      .references(() => courses.id, { onDelete: "cascade" }),
  };
}

/** The names of the owner policies of a table, in the order ownerPolicies declares them. */
export function ownerPolicyNames(table: string) {
  return [
    `${table}_select_own`,
    `${table}_insert_own`,
    `${table}_update_own`,
    `${table}_delete_own`,
    `${table}_admin_all`,
  ] as const;
}

/**
 * The policy set of every user-owned table, for its owner column (`t.userId`, or `t.id` on
 * users): the current user may SELECT, INSERT, UPDATE and DELETE their own rows, with USING and
 * WITH CHECK so a row can be neither read, created, moved to nor left with another owner;
 * admin_role may do everything. `(SELECT app_current_user_id())` is evaluated once per
 * statement (an InitPlan), not per row.
 *
 * Declared here for drizzle-kit (so `push` and `generate` know the policies exist and never
 * drop them, and a reader sees a table's ownership where it is defined). The policies in the
 * database are created by sql/policies/ (rls_owner_policies), which also FORCEs row-level
 * security; test/schema-ownership.test.ts checks each declared policy against the catalog,
 * expressions included, since drizzle-kit compares only names.
 */
export function ownerPolicies(owner: PgColumn): PgPolicy[] {
  const table = getTableName(owner.table);
  const own = sql`${sql.identifier(owner.name)} = (SELECT app_current_user_id())`;
  const admin = sql`(SELECT app_is_admin())`;
  const [select, insert, update, del, adminAll] = ownerPolicyNames(table);
  return [
    pgPolicy(select, { for: "select", to: "public", using: own }),
    pgPolicy(insert, { for: "insert", to: "public", withCheck: own }),
    pgPolicy(update, { for: "update", to: "public", using: own, withCheck: own }),
    pgPolicy(del, { for: "delete", to: "public", using: own }),
    pgPolicy(adminAll, { for: "all", to: adminRole, using: admin, withCheck: admin }),
  ];
}
