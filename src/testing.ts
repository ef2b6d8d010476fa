import { PGlite } from "@electric-sql/pglite";
import type { Database } from "./connection.js";
import { embeddedExtensions, wrapPglite } from "./embedded.js";
import { migrate } from "./migrations/migrate.js";
import { EXTENSIONS } from "./db/constants.js";
import { quoteIdentifier } from "./db/query.js";

/**
 * The role a test database's session acts as: a non-superuser owner of the database, as RDS's
 * master user is, so row-level security applies to everything the test does (as owner, through
 * `withUserContext` as sensa_app, and through `withAdmin` as admin_role).
 */
export const TEST_DB_OWNER = "sensa_owner";

/** A migrated database's files, made once per process and loaded by every later call. */
let template: Promise<Blob> | undefined;

/**
 * A migrated embedded database (PGlite, in memory) for another service's tests, in one call. Its
 * session acts as {@link TEST_DB_OWNER}, a non-superuser owner, so row-level security applies
 * as it does on RDS. Each call returns a new, independent database: the first in a process takes
 * a few seconds (start and migrate: 7 s on a 2-core machine), later ones well under 1 s (a copy
 * of the first). Close it with `closeDb`.
 * Needs the optional peers `@electric-sql/pglite` and `@electric-sql/pglite-pgvector` (dev
 * dependencies of the service).
 *
 * PGlite has a single superuser session underneath: it cannot show that a login is refused a role
 * (e.g. that the app login cannot `SET ROLE admin_role`). Test that against a server.
 *
 * ```ts
 * import { closeDb, courses, users, withAdmin, withUserContext } from "@sensa-learn/db";
 * import { createTestDb } from "@sensa-learn/db/testing";
 *
 * const db = await createTestDb();
 * const [ana] = await withAdmin(db, (tx) => tx.insert(users).values({ cognitoSub: "s1", email: "ana@example.com" }).returning());
 * await withAdmin(db, (tx) => tx.insert(courses).values({ userId: ana!.id, title: "Biology" }));
 * const mine = await withUserContext(db, ana!.id, (tx) => tx.select().from(courses)); // Ana's course only
 * await closeDb(db);
 * ```
 */
export async function createTestDb(): Promise<Database> {
  template ??= migratedTemplate().catch((error: unknown) => {
    template = undefined; // let a later call try again
    throw error;
  });
  const client = await PGlite.create({ loadDataDir: await template, extensions: embeddedExtensions });
  // A session setting: it holds for the life of this database, and SET LOCAL ROLE in
  // withUserContext / withAdmin returns to it at the end of each transaction.
  await client.exec(`SET ROLE ${TEST_DB_OWNER}`);
  return wrapPglite(client);
}

/**
 * Does to a new embedded database what a superuser does on RDS before handing a database to its
 * owner: creates the extensions (the owner cannot), a non-superuser `owner` role owning the
 * database, and switches the session to it, so everything after is subject to row-level security.
 * This package's own test harness prepares its embedded databases the same way.
 */
export async function handOverToOwner(client: PGlite, owner: string): Promise<void> {
  await client.exec(`
    ${EXTENSIONS.map((e) => `CREATE EXTENSION IF NOT EXISTS ${quoteIdentifier(e)};`).join("\n    ")}
    CREATE ROLE ${owner} NOSUPERUSER NOBYPASSRLS CREATEROLE CREATEDB;
    ALTER DATABASE postgres OWNER TO ${owner};
    SET ROLE ${owner};
  `);
}

async function migratedTemplate(): Promise<Blob> {
  const client = await PGlite.create({ extensions: embeddedExtensions });
  try {
    await handOverToOwner(client, TEST_DB_OWNER);
    await migrate(wrapPglite(client));
    return await client.dumpDataDir("none");
  } finally {
    await client.close();
  }
}
