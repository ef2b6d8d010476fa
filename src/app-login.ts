import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "./connection.js";
import { queryRows } from "./functions/rows.js";
import { parseInput } from "./validation.js";

const appLoginInput = z.object({
  user: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "a lowercase PostgreSQL role name" }),
  password: z.string().min(16, { error: "at least 16 characters" }),
});

/**
 * Creates (or re-passwords) the login that app services connect as: LOGIN, a member of
 * sensa_app and nothing else, so everything it does passes row-level security. Run as the owner.
 *
 * ```ts
 * await ensureAppLogin(db, { user: "sensa_app_login", password: process.env.APP_DB_PASSWORD });
 * ```
 */
export async function ensureAppLogin(db: Database, input: { user?: string; password?: string }): Promise<{ user: string; created: boolean }> {
  const { user, password } = parseInput(appLoginInput, input, "app-login (APP_DB_USER, APP_DB_PASSWORD)");
  const [existing] = await queryRows(db, sql`SELECT 1 AS found FROM pg_roles WHERE rolname = ${user}`);
  // DDL cannot take bound parameters, so the values travel as transaction-local settings and
  // format() quotes them server-side: nothing is spliced into SQL text here.
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('sensa.app_login_user', ${user}, true), set_config('sensa.app_login_password', ${password}, true)`);
    await tx.execute(sql.raw(`DO $$
      DECLARE
        u text := current_setting('sensa.app_login_user');
        p text := current_setting('sensa.app_login_password');
      BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = u) THEN
          EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', u, p); -- only a superuser may restate the other attributes
        ELSE
          EXECUTE format('CREATE ROLE %I WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L', u, p);
        END IF;
        EXECUTE format('GRANT sensa_app TO %I', u);
      END
    $$`));
  });
  return { user, created: !existing };
}
