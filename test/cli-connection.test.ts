import { execFile, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { resolveTarget } from "../src/connection.js";
import { openEmptyDatabase, openTestDatabase, type TestDatabase } from "./support/database.js";
import { urlFor, withClient } from "./support/server.js";

// sensa-db as the ECS tasks run it: configured by libpq's PG* variables only.
const server = inject("testServer");
const noServer = server ? undefined : "needs a PostgreSQL server (TEST_DATABASE_URL): the CLI's server path";

/** The environment ECS gives a task for `url`: PG* variables, no DATABASE_URL. */
function pgEnv(url: string, extra: Record<string, string> = {}) {
  const t = resolveTarget({ url, env: {} })!;
  return { ...process.env, DATABASE_URL: "", PGHOST: t.host, PGPORT: String(t.port), PGUSER: t.user, PGPASSWORD: t.password ?? "", PGDATABASE: t.database, ...extra };
}

describe.skipIf(noServer)(`sensa-db from PG* variables${noServer ? ` (skipped: ${noServer})` : ""}`, () => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  beforeAll(async () => {
    [migrated, empty] = await Promise.all([openTestDatabase(), openEmptyDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([migrated?.close(), empty?.close()]);
  });

  it("verify builds its reference schema on the live server, not in an embedded PGlite", async () => {
    // As a superuser: the scratch database needs `vector`, which only RDS's master user (or a
    // superuser here) may create; the test owner may not.
    const name = new URL(migrated.url!).pathname.slice(1);
    const { stdout, stderr } = await promisify(execFile)("npx", ["tsx", "src/cli/main.ts", "verify"], { env: pgEnv(urlFor(server!.adminUrl, name)) });
    expect(stderr).toMatch(/using PostgreSQL postgres@.*\(from PG\* variables\)/);
    expect(stdout).toMatch(/^ok: checksums match .* built in scratch database sensa_verify_[0-9a-f]+ on the same server\)/);
  });

  it("prints one line, no stack, and exits 1 when its session is killed mid-migration", async () => {
    // Hold the migration lock so the migration waits inside its session, then kill that session.
    const name = new URL(empty.url!).pathname.slice(1);
    const holder = new (await import("pg")).default.Client({ connectionString: urlFor(server!.adminUrl, name) });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(7205141309)");
      const child = spawn("npx", ["tsx", "src/cli/main.ts", "migrate"], { env: pgEnv(empty.url!) });
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
      expect(killed).toBe(1);
      expect(await exited).toBe(1);
      const lines = stderr.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^sensa-db migrate: the database connection was lost \(terminating connection due to administrator command\)\. .*run "sensa-db status", then the command again\.$/);
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(stdout).toBe("");
    } finally {
      await holder.end();
    }
  });
});
