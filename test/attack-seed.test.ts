import { spawn, spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, inject, it } from "vitest";
import { seed } from "../src/seed/index.js";
import { LOAD_ORDER } from "../src/seed/load.js";
import { getTableConfig } from "drizzle-orm/pg-core";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser } from "./support/fixtures.js";

// A seed on a server runs as the tables' owner and lifts FORCE ROW LEVEL SECURITY for its own
// transaction (COPY FROM is refused under RLS). An outsider's questions: while it is lifted, can
// anyone else, the owner's other sessions included, see or write another user's rows? And does a
// seed killed in that window leave a table without FORCE (the owner would then bypass RLS for good)?
const server = inject("testServer");
const noServer = server
  ? undefined
  : "needs a PostgreSQL server: PGlite has one session, so there is no concurrent session, and its seed does not lift FORCE (it INSERTs as admin_role)";

const TABLES = LOAD_ORDER.map(([, table]) => getTableConfig(table).name);

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * Runs `script` with psql as a separate session, synchronously: called from the seed's progress
 * callback, it runs while the seed's transaction is open with FORCE lifted and the seed waits.
 */
function psqlNow(url: string, script: string): { out: string; err: string } {
  const r = spawnSync("psql", ["-X", "-A", "-t", "-q", "-d", url, "-f", "-"], {
    input: script,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { out: r.stdout, err: r.stderr };
}

/** Reads every seeded table and plants a row owned by `victim`, each statement on its own, waiting at most 300 ms for a lock. */
const probe = (victim: string, asUser?: string) => `
${asUser ? `SET app.current_user_id = '${asUser}';` : ""}
SET lock_timeout = '300ms';
SELECT 'force:' || bool_and(relforcerowsecurity AND relrowsecurity) FROM pg_class WHERE oid = ANY('{${TABLES.join(",")}}'::regclass[]);
${TABLES.map((table) => `SELECT 'visible:${table}:' || count(*) FROM "${table}";`).join("\n")}
INSERT INTO courses (user_id, title) VALUES ('${victim}', 'planted') RETURNING 'planted:' || id;
`;

describe.skipIf(noServer)(
  `a seed's transaction, FORCE ROW LEVEL SECURITY lifted for it${noServer ? ` (skipped: ${noServer})` : ""}`,
  () => {
    it("keeps every other session out while it is lifted: the owner's and the app login's reads and writes wait (lock timeout), see no row and plant none, and the catalog still says FORCE", async () => {
      t = await openTestDatabase();
      const d = t;
      const victim = (await createUser(d.db)).id;
      await createCourseTree(d.db, victim, { title: "Victim's course" });
      const attacker = (await createUser(d.db)).id;
      const probes: Array<{ who: string; out: string; err: string }> = [];
      await seed(d.db, { seed: 3, users: 3, coursesPerUser: 1, documentsPerCourse: 2, deferIndexes: false }, () => {
        if (probes.length) return;
        probes.push({ who: "the owner outside a context", ...psqlNow(d.url!, probe(victim)) });
        probes.push({ who: "the owner as the attacker", ...psqlNow(d.url!, probe(victim, attacker)) });
        probes.push({ who: "the app login as the attacker", ...psqlNow(d.appUrl!, probe(victim, attacker)) });
      });
      expect(probes).toHaveLength(3);
      for (const p of probes) {
        expect(p.out.split("\n").filter(Boolean), p.who).toEqual(["force:true"]);
        // every table read and the planted row waited for the seed's lock and gave up
        expect(p.err.match(/canceling statement due to lock timeout/g), `${p.who}: ${p.err}`).toHaveLength(
          TABLES.length + 1,
        );
      }
      const planted = await d.superuserRows("SELECT count(*)::int AS n FROM courses WHERE title = 'planted'");
      expect(planted).toEqual([{ n: 0 }]);
      expect(await forcedTables(d)).toEqual([...TABLES].sort());
    });

    it("a seed killed with SIGKILL while FORCE is lifted (during its COPY) leaves every table with FORCE, its 51 policies, and the owner seeing no row outside a context", async () => {
      t = await openTestDatabase();
      const victim = (await createUser(t.db)).id;
      await createCourseTree(t.db, victim);
      const policies = await policyCount(t);
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "src/cli/main.ts",
          "seed",
          "--seed",
          "5",
          "--users",
          "30",
          "--courses-per-user",
          "2",
          "--documents-per-course",
          "10",
        ],
        {
          env: { ...process.env, PGAPPNAME: "attack seed", DATABASE_URL: t.url! },
          stdio: "ignore",
        },
      );
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      await sessionRunning(t, "attack seed", /^COPY /);
      child.kill("SIGKILL");
      expect(await exited).toBe(null);
      await sessionsGone(t, "attack seed");
      expect(await forcedTables(t)).toEqual([...TABLES].sort());
      expect(await policyCount(t)).toBe(policies);
      expect(policies).toBe(51);
      const seen = psqlNow(t.url!, TABLES.map((table) => `SELECT '${table}:' || count(*) FROM "${table}";`).join("\n"));
      expect(seen.err).toBe("");
      expect(seen.out.split("\n").filter(Boolean)).toEqual(TABLES.map((table) => `${table}:0`));
    });
  },
);

/** The seeded tables that have row-level security enabled and forced, as the catalog says now. */
async function forcedTables(d: TestDatabase): Promise<string[]> {
  const rows = await d.superuserRows(
    `SELECT relname FROM pg_class WHERE oid = ANY('{${TABLES.join(",")}}'::regclass[]) AND relrowsecurity AND relforcerowsecurity ORDER BY 1`,
  );
  return rows.map((r) => String(r.relname));
}

async function policyCount(d: TestDatabase): Promise<number> {
  const [row] = await d.superuserRows("SELECT count(*)::int AS n FROM pg_policies WHERE schemaname = 'public'");
  return Number(row!.n);
}

const databaseOf = (d: TestDatabase) => new URL(d.url!).pathname.slice(1);

async function sessionRunning(d: TestDatabase, application: string, statement: RegExp): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const rows = await d.superuserRows(
      `SELECT query FROM pg_stat_activity WHERE datname = '${databaseOf(d)}' AND application_name = '${application}' AND state = 'active'`,
    );
    if (rows.some((r) => statement.test(String(r.query)))) return;
    await sleep(10);
  }
  throw new Error(`no session of ${application} ran ${statement} within 30 s`);
}

async function sessionsGone(d: TestDatabase, application: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [row] = await d.superuserRows(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${databaseOf(d)}' AND application_name = '${application}'`,
    );
    if (row!.n === 0) return;
    await sleep(50);
  }
  throw new Error(`sessions of ${application} still open after 30 s`);
}
