import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, migrationStatus, verify, type Database } from "../src/index.js";
import { BaselineRefusedError } from "../src/db/errors.js";
import { queryRows } from "../src/db/query.js";
import { readApplied } from "../src/migrations/applied.js";
import { baseline } from "../src/migrations/baseline.js";
import { defaultMigrationsFolder, readMigrations } from "../src/migrations/files.js";
import { onServer, openEmptyDatabase, type TestDatabase } from "./support/database.js";

const run = promisify(execFile);
const migrations = readMigrations();
const names = migrations.map((m) => m.name);
const UP_TO = "0002_sql_objects";
const adopted = names.slice(0, names.indexOf(UP_TO) + 1);

const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});
const empty = async () => {
  const t = await openEmptyDatabase();
  opened.push(t);
  return t;
};

/**
 * What an operator does without this package's runner (psql -f drizzle/0000… 0002…): Drizzle's
 * bookkeeping schema and table first, since 0000 puts the log trigger on that table, then every
 * statement of each file, in order. Nothing is recorded as applied.
 */
async function buildByHand(db: Database, upTo: string): Promise<void> {
  await db.execute(sql`CREATE SCHEMA drizzle`);
  await db.execute(
    sql`CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
  );
  for (const m of migrations.slice(0, names.indexOf(upTo) + 1)) {
    for (const statement of m.statements) await db.execute(sql.raw(statement));
  }
}

const cli = (url: string, ...args: string[]) =>
  run("npx", ["tsx", "src/cli/main.ts", ...args, "--url", url], { cwd: join(defaultMigrationsFolder(), "..") }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe("baseline", { timeout: 180_000 }, () => {
  it("a database built by applying the migrations' SQL by hand is baselined, then migrates forward normally", async () => {
    const { db } = await empty();
    await buildByHand(db, UP_TO);
    await expect(migrate(db)).rejects.toThrow(/already exists/); // why baseline exists

    const reference = await empty();
    const result = await baseline(db, { reference: reference.db, to: UP_TO });
    expect(result.recorded).toEqual(adopted);
    expect(
      await queryRows(db, sql`SELECT migration_name, direction, applied_via FROM migrations_log ORDER BY id`),
    ).toEqual(adopted.map((name) => ({ migration_name: name, direction: "up", applied_via: "baseline" })));
    expect((await readApplied(db)).map((a) => a.hash)).toEqual(migrations.slice(0, adopted.length).map((m) => m.hash));

    expect((await migrate(db)).applied).toEqual(names.slice(adopted.length));
    expect((await migrationStatus(db)).every((s) => s.state === "applied")).toBe(true);
    const fresh = await empty();
    expect((await verify(db, { reference: fresh.db })).clean).toBe(true);
  });

  it("a database that differs is refused with the differences listed, and nothing is recorded", async () => {
    const { db } = await empty();
    await buildByHand(db, UP_TO);
    await db.execute(sql`ALTER TABLE courses ADD COLUMN legacy_code text`);
    await db.execute(sql`DROP INDEX courses_user_id_idx`);
    await db.execute(sql`ALTER TABLE users ALTER COLUMN display_name TYPE varchar(80)`);
    const reference = await empty();
    const error = await baseline(db, { reference: reference.db, to: UP_TO }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BaselineRefusedError);
    const { drift, message } = error as BaselineRefusedError;
    expect(drift?.extra).toEqual(["column courses.legacy_code"]);
    expect(drift?.missing).toEqual(["index courses_user_id_idx"]);
    expect(drift?.changed).toEqual([
      expect.stringMatching(/^column users\.display_name: character varying\(80\).* ≠ text/),
    ]);
    expect(message).toMatch(
      /refusing to baseline: the schema differs from what the migrations up to 0002_sql_objects build\. Nothing was recorded/,
    );
    expect(message).toContain("+ extra:   column courses.legacy_code");
    expect(message).toContain("- missing: index courses_user_id_idx");
    expect(await readApplied(db)).toEqual([]);
  });

  it("refuses a database that already has migrations recorded", async () => {
    const { db } = await empty();
    await migrate(db, { to: UP_TO });
    const reference = await empty();
    await expect(baseline(db, { reference: reference.db })).rejects.toThrow(/already has 3 migration\(s\) recorded/);
  });

  it.skipIf(!onServer())(
    "sensa-db baseline records, or exits 1 listing the differences (server)",
    async () => {
      const matching = await empty();
      await buildByHand(matching.db, UP_TO);
      const reference = await empty();
      const ok = await cli(matching.url!, "baseline", "--to", UP_TO, "--reference-url", reference.url!);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(
        /built in the database given by --reference-url\); recorded as applied without running them:\n {2}= 0000_bootstrap\n {2}= 0001_schema\n {2}= 0002_sql_objects/,
      );
      expect((await cli(matching.url!, "migrate")).code).toBe(0);
      expect((await readApplied(matching.db)).length).toBe(names.length);

      const differing = await empty();
      await buildByHand(differing.db, UP_TO);
      await differing.db.execute(sql`CREATE TABLE notes_by_hand (id int)`);
      const reference2 = await empty();
      const refused = await cli(differing.url!, "baseline", "--to", UP_TO, "--reference-url", reference2.url!);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/refusing to baseline/);
      expect(refused.stderr).toContain("+ extra:   table notes_by_hand");
      expect(await readApplied(differing.db)).toEqual([]);
    },
    180_000,
  );
});
