import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { inject } from "vitest";
import { closeDb, createDb, type Database } from "../../src/connection.js";
import { embeddedExtensions, wrapPglite } from "../../src/embedded.js";
import { migrate } from "../../src/migrations/migrate.js";
import { handOverToOwner } from "../../src/testing.js";
import { throughPooler } from "./replica.js";
import {
  APP_LOGIN,
  createOwnedDatabase,
  dropDatabase,
  OWNER,
  RUN_PREFIX,
  TEMPLATE,
  urlFor,
  withClient,
} from "./server.js";

export interface TestDatabase {
  db: Database;
  kind: "server" | "embedded";
  /** The owner's connection string (server only): for child processes such as the CLI. */
  url: string | undefined;
  /** Connecting as an app service does: a login role that is a member of sensa_app only (server only). */
  appUrl: string | undefined;
  /**
   * Runs SQL as a superuser on this same database (to see past row-level security, or do what
   * the owner may not). Statements before the last are settings; the last one's rows return.
   */
  superuserRows(script: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const server = () => inject("testServer");
export const onServer = () => server() !== null;

/** This file's own migrated database, owned and used by the non-superuser test owner. */
export function openTestDatabase(): Promise<TestDatabase> {
  return open({ migrated: true });
}

/** A database with the extensions created (as on RDS) but no migration applied. */
export function openEmptyDatabase(): Promise<TestDatabase> {
  return open({ migrated: false });
}

async function open({ migrated }: { migrated: boolean }): Promise<TestDatabase> {
  const target = server();
  if (target) {
    const name = `${RUN_PREFIX}${randomBytes(6).toString("hex")}`;
    const url = await createOwnedDatabase(target.adminUrl, name, migrated ? TEMPLATE : "template0");
    const db = createDb({ url: throughPooler(url) }); // TEST_POOLER_URL: see support/replica.ts
    // A copy of the template has PUBLIC's default database privileges again (they are not
    // copied): migrate re-applies them, as it would for a restored dump.
    if (migrated) {
      await migrate(db);
      await withClient(target.adminUrl, (c) => c.query(`GRANT CONNECT ON DATABASE "${name}" TO ${APP_LOGIN}`));
    }
    const superUrl = urlFor(target.adminUrl, name);
    return {
      db,
      kind: "server",
      url,
      appUrl: throughPooler(urlFor(target.adminUrl, name, APP_LOGIN)),
      async superuserRows(script) {
        const admin = new pg.Client({ connectionString: superUrl });
        await admin.connect();
        try {
          const results = await admin.query(script);
          const last = Array.isArray(results) ? results.at(-1) : results;
          return last?.rows ?? [];
        } finally {
          await admin.end();
        }
      },
      async close() {
        await closeDb(db);
        await dropDatabase(target.adminUrl, name);
      },
    };
  }
  return openEmbedded(migrated);
}

/**
 * PGlite has one session and starts as a superuser, which row-level security never filters.
 * Its session user stays that superuser whatever role it acts as, so on PGlite anyone may
 * SET ROLE to anything: the embedded database has no boundary between roles, only the server
 * does, and the tests that need one run on the server only.
 * So the session switches to a non-superuser owner of the database first, exactly like the
 * server's test owner, and everything after runs as that owner.
 */
async function openEmbedded(migrated: boolean): Promise<TestDatabase> {
  const pglite = await PGlite.create({ extensions: embeddedExtensions });
  await handOverToOwner(pglite, OWNER);
  const db = wrapPglite(pglite);
  if (migrated) await migrate(db);
  return {
    db,
    kind: "embedded",
    url: undefined,
    appUrl: undefined,
    async superuserRows(script) {
      await pglite.exec("RESET ROLE");
      try {
        const results = await pglite.exec(script);
        return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
      } finally {
        await pglite.exec(`SET ROLE ${OWNER}`);
      }
    },
    close: () => closeDb(db),
  };
}
