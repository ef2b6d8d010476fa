import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "./connection.js";
import { ConfigurationError } from "./db/errors.js";
import { queryRows } from "./db/query.js";
import { parseInput } from "./db/validation.js";
import { ADMIN_ROLE, APP_ROLE } from "./db/constants.js";

const appLoginInput = z
  .object({
    user: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "a lowercase PostgreSQL role name" }),
    password: z.string().min(16, { error: "at least 16 characters" }).optional(),
    iam: z.boolean().optional(),
  })
  .refine((input) => input.iam || input.password !== undefined, {
    error: "a password (or iam: true)",
    path: ["password"],
  });

/**
 * What a runaway request may cost, set on the login itself (ALTER ROLE … IN DATABASE … SET):
 * settings of sensa_app would not apply, since a role's settings are read at login, not at
 * SET ROLE. A context can ask for other limits (`withUserContext(…, { statementTimeoutMs })`).
 */
export const APP_LOGIN_TIMEOUTS = {
  statement_timeout: "30s",
  lock_timeout: "5s",
  idle_in_transaction_session_timeout: "60s",
} as const;

/**
 * Creates (or re-passwords) the login that app services connect as: LOGIN, a member of
 * sensa_app and nothing else, allowed to CONNECT to this database only, with the timeouts of
 * APP_LOGIN_TIMEOUTS. Run it as the owner, after migrate. With `iam: true` it is also granted
 * `rds_iam`, so on RDS it signs in with IAM tokens (`createDb({ iam })`); the password may be omitted.
 *
 * Refuses (ConfigurationError, nothing changed) to touch an existing role that could do more
 * than that: a superuser, a role with BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION, the database's owner,
 * a platform role (sensa_app, admin_role, the current user), or a member of any role but sensa_app
 * (and rds_iam).
 *
 * ```ts
 * await ensureAppLogin(db, { user: "sensa_app_login", password: process.env.APP_DB_PASSWORD });
 * ```
 */
export async function ensureAppLogin(
  db: Database,
  input: { user?: string; password?: string; iam?: boolean },
): Promise<{ user: string; created: boolean }> {
  const { user, password, iam } = parseInput(appLoginInput, input, "app-login (APP_DB_USER, APP_DB_PASSWORD)");
  const [existing] = await queryRows(
    db,
    sql`SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
          r.rolname IN (${APP_ROLE}, ${ADMIN_ROLE}, current_user) AS platform_role,
          r.oid = (SELECT datdba FROM pg_database WHERE datname = current_database()) AS owns_database,
          ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                WHERE m.member = r.oid AND g.rolname NOT IN (${APP_ROLE}, 'rds_iam') ORDER BY 1)::text[] AS other_memberships
        FROM pg_roles r WHERE r.rolname = ${user}`,
  );
  if (existing) refuseUnsafeRole(user, existing);
  if (iam) {
    const [rdsIam] = await queryRows(
      db,
      sql`SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') AS present`,
    );
    if (!rdsIam?.present)
      throw new ConfigurationError(
        "IAM authentication needs the rds_iam role, which exists only on Amazon RDS: nothing was changed",
      );
  }
  // DDL cannot take bound parameters, so the values travel as transaction-local settings and
  // format() quotes them server-side: nothing is spliced into SQL text here.
  await db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT set_config('sensa.app_login_user', ${user}, true), set_config('sensa.app_login_password', ${password ?? ""}, true), set_config('sensa.app_login_iam', ${iam ? "on" : "off"}, true)`,
    );
    const timeouts = Object.entries(APP_LOGIN_TIMEOUTS)
      .map(
        ([name, value]) =>
          `EXECUTE format('ALTER ROLE %I IN DATABASE %I SET ${name} = %L', u, current_database(), '${value}');`,
      )
      .join("\n        ");
    await tx.execute(
      sql.raw(`DO $$
      DECLARE
        u text := current_setting('sensa.app_login_user');
        p text := current_setting('sensa.app_login_password');
        iam boolean := current_setting('sensa.app_login_iam') = 'on';
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = u) THEN
          EXECUTE format('CREATE ROLE %I WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE', u);
        END IF;
        IF p <> '' THEN
          EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', u, p);
        ELSE
          EXECUTE format('ALTER ROLE %I WITH LOGIN', u);
        END IF;
        EXECUTE format('GRANT sensa_app TO %I', u);
        IF iam THEN
          EXECUTE format('GRANT rds_iam TO %I', u);
        END IF;
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), u);
        ${timeouts}
      END
    $$`),
    );
  });
  return { user, created: !existing };
}

function refuseUnsafeRole(user: string, role: Record<string, unknown>): void {
  const problems = [
    role.rolsuper && "is a superuser",
    role.rolbypassrls && "has BYPASSRLS",
    role.rolcreaterole && "has CREATEROLE",
    role.rolcreatedb && "has CREATEDB",
    role.rolreplication && "has REPLICATION",
    role.owns_database && "owns this database",
    role.platform_role && "is a platform role (sensa_app, admin_role or the owner running this)",
    (role.other_memberships as string[]).length > 0 &&
      `is a member of ${(role.other_memberships as string[]).join(", ")}`,
  ].filter(Boolean);
  if (problems.length === 0) return;
  throw new ConfigurationError(
    `refusing to use existing role ${user} as the app login: it ${problems.join(", ")}. ` +
      `An app login must be a plain LOGIN role that is a member of sensa_app only: choose another APP_DB_USER, or have a DBA remove what it should not have.`,
  );
}
