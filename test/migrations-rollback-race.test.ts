import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { migrate } from "../src/index.js";
import { RollbackPlanChangedError } from "../src/db/errors.js";
import { queryRows } from "../src/db/query.js";
import { readApplied } from "../src/migrations/applied.js";
import { defaultMigrationsFolder, readMigrations } from "../src/migrations/files.js";
import { rollback } from "../src/migrations/rollback.js";
import { MIGRATION_LOCK_KEY } from "../src/migrations/session.js";
import { onServer, openEmptyDatabase, type TestDatabase } from "./support/database.js";

const run = promisify(execFile);
const names = readMigrations().map((m) => m.name);
const [last, beforeLast] = [names.at(-1)!, names.at(-2)!];
const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});
const migrated = async () => {
  const t = await openEmptyDatabase();
  opened.push(t);
  await migrate(t.db);
  return t;
};

const cli = (url: string, ...args: string[]) =>
  run("npx", ["tsx", "src/cli/main.ts", ...args, "--url", url], { cwd: join(defaultMigrationsFolder(), "..") }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe("rollback names what it undoes", { timeout: 180_000 }, () => {
  it.skipIf(!onServer())(
    "two sensa-db rollback processes started together undo one migration; the second says the plan changed and undoes nothing (server: PGlite is one process)",
    async () => {
      const t = await migrated();
      // Both processes are made to plan, then queue on the migration lock, before either may run.
      const holder = new pg.Client({ connectionString: t.url });
      await holder.connect();
      try {
        await holder.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
        const both = Promise.all([cli(t.url!, "rollback", "--force"), cli(t.url!, "rollback", "--force")]);
        const waiting = async () =>
          Number(
            (
              await holder.query(
                "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
              )
            ).rows[0].n,
          );
        for (let i = 0; (await waiting()) < 2; i++) {
          if (i > 1200) throw new Error("the two rollbacks never queued on the migration lock");
          await new Promise((r) => setTimeout(r, 50));
        }
        await holder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
        const results = await both;
        expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
        const undid = results.find((r) => r.code === 0)!;
        const refused = results.find((r) => r.code === 1)!;
        expect(undid.stdout).toMatch(new RegExp(`rolled back 1 migration\\(s\\):\\n  - ${last}`));
        expect(refused.stderr).toContain(
          `planned to undo ${last}, but once it held the migration lock the migrations to undo were ${beforeLast}`,
        );
        expect(refused.stderr).toMatch(/Nothing was changed/);
      } finally {
        await holder.end();
      }
      expect((await readApplied(t.db)).length).toBe(names.length - 1);
      expect(await queryRows(t.db, sql`SELECT migration_name FROM migrations_log WHERE direction = 'down'`)).toEqual([
        { migration_name: last },
      ]);
    },
    180_000,
  );

  it("refuses, changing nothing, when the last applied migration is not the one the caller expects to undo", async () => {
    const t = await migrated();
    const error = await rollback(t.db, { expectLast: beforeLast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackPlanChangedError);
    expect(error).toMatchObject({ planned: [beforeLast], found: [last] });
    expect((await readApplied(t.db)).length).toBe(names.length);
    const { steps } = await rollback(t.db, { expectLast: last });
    expect(steps.map((s) => s.migration)).toEqual([last]);
  });
});
