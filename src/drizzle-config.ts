import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** What drizzle-kit needs from this package; assignable to drizzle-kit's `Config` (no type import, so no dependency on drizzle-kit). */
export interface SensaDrizzleConfig {
  dialect: "postgresql";
  /** The package's compiled schema (dist/src/schema/index.js; src/schema/index.ts in the repo), relative to the working directory. */
  schema: string;
  /** The package's migrations, relative to the working directory. */
  out: string;
  dbCredentials: { url: string };
  migrations: { table: string; schema: string };
  strict: boolean;
  verbose: boolean;
}

export interface DrizzleConfigOptions {
  /** The database; default `DATABASE_URL`. */
  url?: string;
  /**
   * Connect acting as `admin_role` (`-c role=admin_role` in the connection's startup options),
   * for `drizzle-kit studio` as an operator. Every user table FORCEs row-level security, so the
   * owner with no user context sees every table empty; admin_role's policies show all rows (and
   * allow every change: this is a production console). The login must be a member of admin_role,
   * as the migrating owner is (sql/roles/roles.sql); a pooler that drops startup options
   * (pgbouncer) does not carry it, so connect to the database directly.
   */
  asOperator?: boolean;
}

/**
 * A drizzle-kit config for a service that installed `@sensa-learn/db`, pointing at the files the
 * package ships (its compiled schema and its `drizzle/` folder) wherever node_modules puts them.
 * For `drizzle-kit studio` (with `asOperator`), `check` and `migrate`; deploy with
 * `npx sensa-db migrate`, which also locks and checks checksums. Never `drizzle-kit push` or
 * `generate` against a migrated database: the schema lives in this package.
 *
 * @example
 * // drizzle.config.ts in the service
 * import { drizzleConfig } from "@sensa-learn/db/drizzle-config";
 * export default drizzleConfig({ asOperator: true });
 * // then: DATABASE_URL=postgres://owner@db-host/sensa npx drizzle-kit studio
 *
 * Throws when no URL is given and `DATABASE_URL` is unset.
 */
export function drizzleConfig(options: DrizzleConfigOptions = {}): SensaDrizzleConfig {
  const url = options.url ?? process.env.DATABASE_URL;
  if (!url) throw new Error("drizzleConfig: set DATABASE_URL or pass { url }");
  const root = packageRoot();
  const built = join(root, "dist", "src", "schema", "index.js");
  // Relative to the working directory: drizzle-kit prefixes `./` to `out`.
  const here = (path: string) => relative(process.cwd(), path) || ".";
  return {
    dialect: "postgresql",
    schema: here(
      existsSync(built) && !import.meta.url.endsWith(".ts") ? built : join(root, "src", "schema", "index.ts"),
    ),
    out: here(join(root, "drizzle")),
    dbCredentials: { url: options.asOperator ? withStartupOption(url, "-c role=admin_role") : url },
    migrations: { table: "__drizzle_migrations", schema: "drizzle" },
    strict: true,
    verbose: true,
  };
}

/** The directory of this package's package.json: two levels up from dist/src/, one from src/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "drizzle"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("drizzleConfig: cannot find the @sensa-learn/db package root");
    dir = parent;
  }
  return dir;
}

/** Adds a libpq startup option (`options=...`, which node-postgres and psql both read) to a URL. */
function withStartupOption(url: string, option: string): string {
  const u = new URL(url);
  const existing = u.searchParams.get("options");
  u.searchParams.set("options", existing ? `${existing} ${option}` : option);
  return u.toString();
}
