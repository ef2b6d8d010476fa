import pg from "pg";
import { connectionConfig, resolveTarget } from "../../src/connection.js";
import { EXTENSIONS as CORE_EXTENSIONS } from "../../src/db/constants.js";
import { quoteIdentifier } from "../../src/db/query.js";

/** The non-superuser role that owns and migrates test databases, as RDS's master user would. */
export const OWNER = "sensa_test_owner";
/**
 * Every database a test run creates is named `sensa_test_<pid>_…` after the vitest process that
 * owns it, so several runs can share one server and each removes only its own (or a dead run's).
 */
export const RUN_PREFIX = `sensa_test_${process.env.SENSA_TEST_RUN ?? process.pid}_`;
export const TEMPLATE = `${RUN_PREFIX}template`;
/** A login role that is a member of sensa_app only: what an app service connects as. */
export const APP_LOGIN = "sensa_test_app";
export const EXTENSIONS = CORE_EXTENSIONS.map(quoteIdentifier);

/** Databases left by test runs whose process is gone (killed, or crashed before teardown). */
export async function dropStaleDatabases(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'sensa\\_test\\_%'",
    );
    for (const { datname } of rows) {
      const pid = Number(/^sensa_test_(\d+)_/.exec(datname)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What global setup hands each test file when a PostgreSQL server is in use. */
export interface ServerTarget {
  /** A superuser connection string (any database). */
  adminUrl: string;
  /** Where it came from: TEST_DATABASE_URL or Testcontainers. */
  source: string;
}

export function urlFor(base: string, database: string, user?: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  if (user) {
    u.username = user;
    u.password = user;
  }
  return u.toString();
}

/** A lone client, resolved and configured (TLS included) exactly as createDb and sensa-db would. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(
    connectionConfig(resolveTarget({ url, env: process.env })!, { applicationName: "sensa test harness" }),
  );
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database owned by the test owner, with the extensions already created by a
 * superuser: the state an RDS database is in before this package's migrations run.
 */
export async function createOwnedDatabase(adminUrl: string, name: string, template = "template0"): Promise<string> {
  await withClient(adminUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}" OWNER ${OWNER} TEMPLATE "${template}"`);
  });
  if (template === "template0") {
    await withClient(urlFor(adminUrl, name), async (c) => {
      for (const ext of EXTENSIONS) await c.query(`CREATE EXTENSION IF NOT EXISTS ${ext}`);
    });
  }
  return urlFor(adminUrl, name, OWNER);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function ensureOwnerRole(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    const { rowCount } = await c.query("SELECT FROM pg_roles WHERE rolname = $1", [OWNER]);
    if (!rowCount) {
      await c.query(`CREATE ROLE ${OWNER} LOGIN PASSWORD '${OWNER}' NOSUPERUSER NOBYPASSRLS CREATEDB CREATEROLE`);
    }
  });
}

/** Creates the app login role (once the migrations have created sensa_app). */
export async function ensureAppLogin(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    const { rowCount } = await c.query("SELECT FROM pg_roles WHERE rolname = $1", [APP_LOGIN]);
    if (!rowCount) await c.query(`CREATE ROLE ${APP_LOGIN} LOGIN PASSWORD '${APP_LOGIN}' NOSUPERUSER NOBYPASSRLS`);
    await c.query(`GRANT sensa_app TO ${APP_LOGIN}`);
  });
}
