import { execFile, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import pg from "pg";
import { connectionConfig, resolveTarget } from "../src/connection.js";
import { openEmptyDatabase, openTestDatabase, type TestDatabase } from "./support/database.js";
import { urlFor, withClient } from "./support/server.js";

// sensa-db as the ECS tasks run it: configured by libpq's PG* variables only.
const server = inject("testServer");
const noServer = server ? undefined : "needs a PostgreSQL server (TEST_DATABASE_URL): the CLI's server path";

/** The environment ECS gives a task for `url`: PG* variables, no DATABASE_URL. */
function pgEnv(url: string, extra: Record<string, string> = {}) {
  const t = resolveTarget({ url, env: {} })!;
  return {
    ...process.env,
    DATABASE_URL: "",
    PGHOST: t.host,
    PGPORT: String(t.port),
    PGUSER: t.user,
    PGPASSWORD: t.password ?? "",
    PGDATABASE: t.database,
    ...extra,
  };
}

describe.skipIf(noServer)(`sensa-db from PG* variables${noServer ? ` (skipped: ${noServer})` : ""}`, () => {
  let migrated: TestDatabase;
  beforeAll(async () => {
    migrated = await openTestDatabase();
  });
  afterAll(async () => {
    await migrated?.close();
  });

  it("verify builds its reference schema on the live server, not in an embedded PGlite", async () => {
    // As a superuser: the scratch database needs `vector`, which only RDS's master user (or a
    // superuser here) may create; the test owner may not.
    const name = new URL(migrated.url!).pathname.slice(1);
    const { stdout, stderr } = await promisify(execFile)("npx", ["tsx", "src/cli/main.ts", "verify"], {
      env: pgEnv(urlFor(server!.adminUrl, name)),
    });
    expect(stderr).toMatch(/using PostgreSQL postgres@.*\(from PG\* variables\)/);
    expect(stdout).toMatch(
      /^ok: checksums match .* built in scratch database sensa_verify_[0-9a-f]+ on the same server\)/,
    );
  });

  /**
   * Runs `sensa-db migrate` on a fresh empty database while `block` (run first, as a superuser on
   * that database) makes it wait on a lock, kills the waiting session, and returns what it printed.
   */
  async function migrateKilledWhile(block: string[]) {
    const fresh = await openEmptyDatabase();
    const name = new URL(fresh.url!).pathname.slice(1);
    const holder = new pg.Client(connectionConfig(resolveTarget({ url: urlFor(server!.adminUrl, name), env: {} })!));
    await holder.connect();
    try {
      for (const statement of block) await holder.query(statement);
      const child = spawn("npx", ["tsx", "src/cli/main.ts", "migrate"], { env: pgEnv(fresh.url!) });
      let stderr = "";
      let stdout = "";
      child.stderr.on("data", (d) => (stderr += d));
      child.stdout.on("data", (d) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      let killed = 0;
      for (let i = 0; i < 300 && !killed; i++) {
        await sleep(100);
        killed = await withClient(server!.adminUrl, async (c) => {
          const { rows } = await c.query<{ n: number }>(
            "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'sensa-db migrate' AND wait_event_type = 'Lock'",
            [name],
          );
          return rows[0]!.n;
        });
      }
      return { killed, code: await exited, stderr, stdout };
    } finally {
      await holder.end();
      await fresh.close();
    }
  }

  // The reason is PostgreSQL's FATAL, or the driver's, depending on which statement met the dead socket.
  const LOST_LINE =
    /^sensa-db migrate: the database connection was lost \((terminating connection due to administrator command|Connection terminated unexpectedly)\)\. .*run "sensa-db status", then the command again\.$/;

  it("prints one line, no stack, and exits 1 when its session is killed waiting for the migration lock", async () => {
    const run = await migrateKilledWhile(["SELECT pg_advisory_lock(7205141309)"]);
    expect(run.killed).toBe(1);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(LOST_LINE);
    expect(run.stdout).toBe("");
  });

  it("prints one line, no stack, and exits 1 when its session is killed inside the migration transaction", async () => {
    // An uncommitted table of the same name makes the first migration's CREATE TABLE wait, after
    // its CREATE EXTENSIONs, inside the batch's transaction.
    const run = await migrateKilledWhile(["BEGIN", "CREATE TABLE public.migrations_log (id int)"]);
    expect(run.killed).toBe(1);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(LOST_LINE);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe("");
  });
});
