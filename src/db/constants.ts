// Facts the TypeScript and the SQL (sql/, drizzle/) must agree on, defined once here; the
// TypeScript imports them, and test/constants.test.ts checks the SQL files use the same values.

/**
 * The extensions the schema needs. drizzle/0000_bootstrap.sql creates them (RDS lets the master
 * user); the test harness, `createTestDb` and `verify`'s scratch database create the same list.
 */
export const EXTENSIONS = ["uuid-ossp", "vector", "pg_trgm"] as const;

/** The role app services act as (they log in as a role granted it). No BYPASSRLS. */
export const APP_ROLE = "sensa_app";
/** The role that sees and changes every row, through policies and grants (not BYPASSRLS). */
export const ADMIN_ROLE = "admin_role";
/** Every database role sql/roles/roles.sql creates. */
export const PLATFORM_ROLES = [APP_ROLE, ADMIN_ROLE] as const;

/**
 * The setting that carries the platform user a transaction acts for: `withUserContext` sets it
 * transaction-locally, and `app_current_user_id()` (sql/context/) reads it for every policy.
 */
export const CURRENT_USER_SETTING = "app.current_user_id";

/** Every embedding on the platform comes from one 768-dimension model: `vector(768)` in SQL. */
export const EMBEDDING_DIMENSIONS = 768;
