import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { MigrationChecksumError, MigrationError, migrate, type Database } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { catalogSnapshot, diffCatalogs } from "../src/migrations/catalog.js";
import { BREAKPOINT, defaultMigrationsFolder, readMigrations } from "../src/migrations/files.js";
import { markerStatement } from "../src/migrations/marker.js";
import { rollback } from "../src/migrations/rollback.js";
import { verify } from "../src/migrations/verify.js";
import { onServer, openEmptyDatabase, type TestDatabase } from "./support/database.js";

const run = promisify(execFile);
const migrations = readMigrations();
const opened: TestDatabase[] = [];
const empty = async () => {
  const t = await openEmptyDatabase();
  opened.push(t);
  return t;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});

const cli = (url: string, ...args: string[]) =>
  run("npx", ["tsx", "src/cli/main.ts", ...args, "--url", url], { cwd: join(defaultMigrationsFolder(), "..") }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

const logRows = (db: Database) => queryRows(db, sql`SELECT migration_name, direction FROM migrations_log ORDER BY id`);

describe("every migration is reversible", () => {
  it("for each N: up to N, then N+1 up and down, leaves the catalog exactly as at N; then N+1 up again succeeds", async () => {
    const { db } = await empty();
    let before = await catalogSnapshot(db);
    for (const m of migrations) {
      await migrate(db, { to: m.name });
      const after = await catalogSnapshot(db);
      const { steps } = await rollback(db, { force: true });
      expect(steps.map((s) => s.migration)).toEqual([m.name]);
      expect(diffCatalogs(await catalogSnapshot(db), before), `rolling back ${m.name}`).toEqual({
        extra: [],
        missing: [],
        changed: [],
      });
      expect((await migrate(db, { to: m.name })).applied).toEqual([m.name]);
      expect(diffCatalogs(await catalogSnapshot(db), after), `re-applying ${m.name}`).toEqual({
        extra: [],
        missing: [],
        changed: [],
      });
      before = after;
    }
  });

  it("logs each rollback as a down row, and Drizzle forgets the migration so it applies again", async () => {
    const { db } = await empty();
    await migrate(db);
    const last = migrations.at(-1)!.name;
    await rollback(db);
    expect((await logRows(db)).at(-1)).toEqual({ migration_name: last, direction: "down" });
    expect((await migrate(db)).applied).toEqual([last]);
  });

  it("refuses a rollback that would drop rows unless forced, changing nothing", async () => {
    const { db } = await empty();
    await migrate(db, { to: "0001_schema" });
    await db.execute(sql`INSERT INTO users (cognito_sub, email) VALUES ('s', 'e@x.io')`);
    await expect(rollback(db)).rejects.toThrow(/would destroy data: users \(1 rows\)/);
    expect(await queryRows(db, sql`SELECT count(*)::int AS n FROM users`)).toEqual([{ n: 1 }]);
    const plan = await rollback(db, { dryRun: true });
    expect(plan).toMatchObject({ applied: false, steps: [{ migration: "0001_schema", destroys: ["users (1 rows)"] }] });
    await rollback(db, { force: true });
    expect(await queryRows(db, sql`SELECT to_regclass('users') AS t`)).toEqual([{ t: null }]);
  });
});

describe("migrate", () => {
  it("applies every migration once, logging one row each; running it again changes nothing", async () => {
    const { db } = await empty();
    expect((await migrate(db)).applied).toEqual(migrations.map((m) => m.name));
    expect((await migrate(db)).applied).toEqual([]);
    expect(await logRows(db)).toEqual(migrations.map((m) => ({ migration_name: m.name, direction: "up" })));
  });

  it.skipIf(!onServer())(
    "two sensa-db migrate processes started together apply each migration once (server: PGlite is one process)",
    async () => {
      const t = await empty();
      const [first, second] = await Promise.all([cli(t.url!, "migrate", "--json"), cli(t.url!, "migrate", "--json")]);
      expect([first.code, second.code]).toEqual([0, 0]);
      const applied = [JSON.parse(first.stdout).applied, JSON.parse(second.stdout).applied];
      expect(applied).toContainEqual(migrations.map((m) => m.name));
      expect(applied).toContainEqual([]);
      expect(
        await queryRows(t.db, sql`SELECT migration_name, count(*)::int AS n FROM migrations_log GROUP BY 1 ORDER BY 1`),
      ).toEqual(migrations.map((m) => ({ migration_name: m.name, n: 1 })));
      expect(await queryRows(t.db, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`)).toEqual([
        { n: migrations.length },
      ]);
    },
  );

  it.skipIf(!onServer())(
    "npx drizzle-kit migrate builds the same schema, logged as drizzle-kit; again, it changes nothing (server)",
    async () => {
      const t = await empty();
      const kit = () =>
        run("npx", ["drizzle-kit", "migrate"], {
          cwd: join(defaultMigrationsFolder(), ".."),
          env: { ...process.env, DATABASE_URL: t.url },
        });
      await kit();
      const counts = async () =>
        (
          await queryRows(
            t.db,
            sql`SELECT
        (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations_log') AS tables,
        (SELECT count(*)::int FROM pg_type WHERE typtype = 'e' AND typnamespace = 'public'::regnamespace) AS enums,
        (SELECT count(*)::int FROM pg_extension WHERE extname IN ('uuid-ossp', 'vector', 'pg_trgm')) AS extensions,
        (SELECT string_agg(DISTINCT applied_via, ',') FROM migrations_log) AS via,
        (SELECT count(*)::int FROM migrations_log) AS log_rows`,
          )
        )[0];
      const first = await counts();
      expect(first).toEqual({ tables: 10, enums: 5, extensions: 3, via: "drizzle-kit", log_rows: migrations.length });
      await kit();
      expect(await counts()).toEqual(first);
      const reference = await empty();
      expect((await verify(t.db, { reference: reference.db })).clean).toBe(true);
    },
  );

  it("on a failing migration names the file and statement and leaves nothing behind", async () => {
    const folder = copyOfDrizzle();
    try {
      addMigration(folder, "0099_broken", [
        "CREATE TYPE half_done AS ENUM ('a')",
        "CREATE TABLE half_done_table (id int)",
        "ALTER TABLE no_such_table ADD COLUMN x int",
      ]);
      const { db } = await empty();
      const error = await migrate(db, { migrationsFolder: folder }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({
        migration: "0099_broken",
        statement: "ALTER TABLE no_such_table ADD COLUMN x int",
      });
      expect((error as Error).message).toMatch(/relation "no_such_table" does not exist/);
      // One transaction for the batch: not even the earlier migrations stayed.
      expect(
        await queryRows(
          db,
          sql`SELECT to_regclass('half_done_table') AS t, to_regclass('users') AS u, to_regclass('migrations_log') AS l, to_regtype('half_done') AS ty`,
        ),
      ).toEqual([{ t: null, u: null, l: null, ty: null }]);
    } finally {
      rmSync(folder, { recursive: true });
    }
  });
});

describe("checksums and drift", () => {
  it("refuses to migrate or verify when an applied migration's file was edited, naming the file", async () => {
    const folder = copyOfDrizzle();
    try {
      // The database applies one version of 0001; the package then ships an edited one.
      const t = await empty();
      await migrate(t.db);
      const edited = join(folder, "0001_schema.sql");
      writeFileSync(edited, readFileSync(edited, "utf8").replace('"display_name" text', '"display_name" varchar(80)'));
      const error = await migrate(t.db, { migrationsFolder: folder }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationChecksumError);
      expect((error as Error).message).toMatch(/drizzle\/0001_schema\.sql was edited after this database applied it/);
      const reference = await empty();
      await expect(verify(t.db, { reference: reference.db, migrationsFolder: folder })).rejects.toBeInstanceOf(
        MigrationChecksumError,
      );
    } finally {
      rmSync(folder, { recursive: true });
    }
  });

  it.skipIf(!onServer())(
    "sensa-db migrate and verify exit non-zero on an edited migration, naming it (server)",
    async () => {
      const folder = copyOfDrizzle();
      try {
        const edited = join(folder, "0001_schema.sql");
        writeFileSync(
          edited,
          readFileSync(edited, "utf8").replace('"display_name" text', '"display_name" varchar(80)'),
        );
        const t = await empty();
        await migrate(t.db, { migrationsFolder: folder }); // the database applied the edited version
        for (const command of ["migrate", "verify"]) {
          const result = await cli(t.url!, command);
          expect(result.code, command).toBe(1);
          expect(result.stderr, command).toMatch(/drizzle\/0001_schema\.sql was edited after this database applied it/);
        }
      } finally {
        rmSync(folder, { recursive: true });
      }
    },
  );

  it("verify reports a table added by hand as drift, and a clean database as clean", async () => {
    const t = await empty();
    await migrate(t.db);
    const clean = await empty();
    expect((await verify(t.db, { reference: clean.db })).clean).toBe(true);
    await t.db.execute(sql`CREATE TABLE notes_by_hand (id int)`);
    await t.db.execute(sql`DROP POLICY courses_delete_own ON courses`);
    const fresh = await empty();
    const { drift, clean: isClean } = await verify(t.db, { reference: fresh.db });
    expect(isClean).toBe(false);
    expect(drift.extra).toEqual(["column notes_by_hand.id", "table notes_by_hand"]);
    expect(drift.missing).toEqual(["policy courses.courses_delete_own"]);
  });

  it.skipIf(!onServer())("sensa-db verify exits 1 and lists the table added by hand (server)", async () => {
    const t = await empty();
    await migrate(t.db);
    await t.db.execute(sql`CREATE TABLE notes_by_hand (id int)`);
    const reference = await empty();
    const result = await cli(t.url!, "verify", "--reference-url", reference.url!);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\+ extra: {3}table notes_by_hand/);
  });
});

function copyOfDrizzle(): string {
  const folder = join(mkdtempSync(join(tmpdir(), "sensa-drizzle-")), "drizzle");
  cpSync(defaultMigrationsFolder(), folder, { recursive: true });
  return folder;
}

function addMigration(folder: string, tag: string, statements: string[]) {
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8"));
  const last = journal.entries.at(-1);
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag });
  writeFileSync(journalPath, JSON.stringify(journal));
  writeFileSync(join(folder, `${tag}.sql`), [...statements, markerStatement(tag)].join(`\n${BREAKPOINT}\n`));
}
