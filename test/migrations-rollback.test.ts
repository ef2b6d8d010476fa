import { sql } from "drizzle-orm";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, rollback, type Database } from "../src/index.js";
import { RollbackError } from "../src/db/errors.js";
import { queryRows } from "../src/db/query.js";
import { readApplied } from "../src/migrations/applied.js";
import { catalogSnapshot } from "../src/migrations/catalog.js";
import { readMigrations } from "../src/migrations/files.js";
import type { LockTimeoutEvent } from "../src/migrations/lock-timeout.js";
import { addMigration, copyOfDrizzle } from "./migrations-folder.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";

const shipped = readMigrations().map((m) => m.name);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const migrated = async (): Promise<TestDatabase> => {
  const t = await openTestDatabase();
  cleanups.push(() => t.close());
  return t;
};
const folderCopy = () => {
  const copy = copyOfDrizzle();
  cleanups.push(copy.remove);
  return copy.folder;
};
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
const appliedNames = async (db: Database) => (await readApplied(db)).length;
const logCount = async (db: Database) =>
  (await queryRows(db, sql`SELECT count(*)::int AS n FROM migrations_log`))[0]!.n;

/** drizzle/ plus 0004_notes (a table) and 0005_notes_title (a column), each with its rollback. */
function notesFolder(rollbacks: { notes?: string[]; title?: string[] } = {}): string {
  const folder = folderCopy();
  addMigration(folder, "0004_notes", ["CREATE TABLE notes (id int PRIMARY KEY, body text)"], {
    rollback: rollbacks.notes ?? ["DROP TABLE notes"],
  });
  addMigration(folder, "0005_notes_title", ["ALTER TABLE notes ADD COLUMN title text"], {
    rollback: rollbacks.title ?? ["ALTER TABLE notes DROP COLUMN title"],
  });
  return folder;
}

describe("rollback's refusals each have their own code", { timeout: 180_000 }, () => {
  it("ROLLBACK_TARGET: to or expectLast naming no applied migration, or both given; nothing is changed", async () => {
    const { db } = await migrated();
    const unknownTo = await failure(rollback(db, { to: "0042_nothing" }));
    expect(unknownTo).toBeInstanceOf(RollbackError);
    expect(unknownTo).toMatchObject({
      code: "ROLLBACK_TARGET",
      message: expect.stringMatching(
        /^--to 0042_nothing: no applied migration has that name \(applied: 0000_bootstrap, /,
      ),
    });
    expect(await failure(rollback(db, { expectLast: "0042_nothing" }))).toMatchObject({
      code: "ROLLBACK_TARGET",
      message: "expectLast 0042_nothing: no migration has that name",
    });
    expect(await failure(rollback(db, { to: shipped[0], expectLast: shipped.at(-1) }))).toMatchObject({
      code: "ROLLBACK_TARGET",
      message: "pass either to or expectLast, not both",
    });
    expect(await appliedNames(db)).toBe(shipped.length);
  });

  it("ROLLBACK_FILE_MISSING: a migration to undo without drizzle/rollback/<name>.sql; nothing is changed", async () => {
    const folder = folderCopy();
    addMigration(folder, "0004_notes", ["CREATE TABLE notes (id int)"]);
    const { db } = await migrated();
    await migrate(db, { migrationsFolder: folder });
    const error = await failure(rollback(db, { migrationsFolder: folder }));
    expect(error).toBeInstanceOf(RollbackError);
    expect(error).toMatchObject({
      code: "ROLLBACK_FILE_MISSING",
      message: "no rollback for 0004_notes: write drizzle/rollback/<name>.sql. Nothing was changed.",
    });
    expect(await appliedNames(db)).toBe(shipped.length + 1);
  });

  it("ROLLBACK_WOULD_DESTROY_DATA: a step would drop a table holding rows and force is not given; the rows stay", async () => {
    const folder = notesFolder();
    const { db } = await migrated();
    await migrate(db, { migrationsFolder: folder, to: "0004_notes" });
    await db.execute(sql`INSERT INTO notes VALUES (1, 'kept')`);
    const error = await failure(rollback(db, { migrationsFolder: folder }));
    expect(error).toBeInstanceOf(RollbackError);
    expect(error).toMatchObject({
      code: "ROLLBACK_WOULD_DESTROY_DATA",
      message:
        "rolling back 0004_notes would destroy data: notes (1 rows). Nothing was changed; pass --force to roll back anyway.",
    });
    expect(await queryRows(db, sql`SELECT body FROM notes`)).toEqual([{ body: "kept" }]);
  });

  it("ROLLBACK_FAILED: a rollback statement fails, named with its file; the dry run finds it first; nothing is changed either time", async () => {
    const folder = notesFolder({ title: ["ALTER TABLE notes DROP COLUMN title", "DROP TABLE no_such_table"] });
    const { db } = await migrated();
    await migrate(db, { migrationsFolder: folder });
    const before = await catalogSnapshot(db);
    for (const dryRun of [true, false]) {
      const error = await failure(rollback(db, { migrationsFolder: folder, dryRun }));
      expect(error, `dryRun ${dryRun}`).toBeInstanceOf(RollbackError);
      expect(error, `dryRun ${dryRun}`).toMatchObject({
        code: "ROLLBACK_FAILED",
        message: expect.stringMatching(
          /^rollback drizzle\/rollback\/0005_notes_title\.sql failed: table "no_such_table" does not exist\n {2}in statement: DROP TABLE no_such_table\nNothing was changed\.$/,
        ),
      });
      expect(await catalogSnapshot(db)).toEqual(before);
      expect(await appliedNames(db)).toBe(shipped.length + 2);
    }
  });
});

describe("rollback --dry-run", { timeout: 180_000 }, () => {
  it("runs the rollback in its transaction and rolls it back: reports each step with the rows it drops, and changes nothing", async () => {
    const folder = notesFolder();
    const { db } = await migrated();
    await migrate(db, { migrationsFolder: folder });
    await db.execute(sql`INSERT INTO notes VALUES (1, 'body', 'title'), (2, 'body', NULL)`);
    const before = { catalog: await catalogSnapshot(db), applied: await appliedNames(db), log: await logCount(db) };

    const plan = await rollback(db, { migrationsFolder: folder, to: shipped.at(-1), dryRun: true });
    expect(plan).toEqual({
      applied: false,
      steps: [
        {
          migration: "0005_notes_title",
          file: "drizzle/rollback/0005_notes_title.sql",
          statements: ["ALTER TABLE notes DROP COLUMN title"],
          destroys: ["notes.title (1 rows)"],
        },
        {
          migration: "0004_notes",
          file: "drizzle/rollback/0004_notes.sql",
          statements: ["DROP TABLE notes"],
          destroys: ["notes (2 rows)"],
        },
      ],
    });
    expect({ catalog: await catalogSnapshot(db), applied: await appliedNames(db), log: await logCount(db) }).toEqual(
      before,
    );
    expect(await queryRows(db, sql`SELECT count(*)::int AS n FROM notes WHERE title IS NOT NULL`)).toEqual([{ n: 1 }]);

    // The same plan, forced, is what happens.
    const done = await rollback(db, { migrationsFolder: folder, to: shipped.at(-1), force: true });
    expect(done).toEqual({ ...plan, applied: true });
    expect(await queryRows(db, sql`SELECT to_regclass('notes') AS notes`)).toEqual([{ notes: null }]);
  });
});

describe("rollback and migrate share one runner", { timeout: 180_000 }, () => {
  it.skipIf(!onServer())(
    "a rollback waiting behind a long transaction times out, retries, and succeeds once it ends, nothing undone meanwhile (server: PGlite has one session)",
    async () => {
      const folder = notesFolder();
      const t = await migrated();
      await migrate(t.db, { migrationsFolder: folder, to: "0004_notes" });
      const blocker = new pg.Client({ connectionString: t.url });
      await blocker.connect();
      cleanups.push(() => blocker.end());
      await blocker.query("BEGIN");
      await blocker.query("SELECT * FROM notes"); // holds ACCESS SHARE on notes until COMMIT

      const events: LockTimeoutEvent[] = [];
      const rolling = rollback(t.db, {
        migrationsFolder: folder,
        lockTimeoutMs: 200,
        retryDelayMs: 100,
        lockRetries: 50,
        onLockTimeout: (e) => events.push(e),
      });
      for (let i = 0; events.length < 2; i++) {
        if (i > 1200) throw new Error("the rollback never timed out twice");
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(await appliedNames(t.db)).toBe(shipped.length + 1);
      await blocker.query("COMMIT");
      const result = await rolling;
      expect(result.steps.map((s) => s.migration)).toEqual(["0004_notes"]);
      expect(events[0]).toMatchObject({ migration: "0004_notes", attempt: 1 });
      expect(await queryRows(t.db, sql`SELECT to_regclass('notes') AS notes`)).toEqual([{ notes: null }]);
      expect(await appliedNames(t.db)).toBe(shipped.length);
    },
  );
});
