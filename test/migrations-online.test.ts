import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { MigrationChecksumError, MigrationLockTimeoutError, migrate, type Database } from "../src/index.js";
import { NonTransactionalMigrationError } from "../src/db/errors.js";
import { queryRows } from "../src/db/query.js";
import { readApplied } from "../src/migrations/applied.js";
import { readMigrations } from "../src/migrations/files.js";
import type { LockTimeoutEvent } from "../src/migrations/lock-timeout.js";
import { concurrentIndexMigration } from "../src/migrations/non-transactional.js";
import { addMigration, copyOfDrizzle } from "./migrations-folder.js";
import { onServer, openEmptyDatabase, openTestDatabase, type TestDatabase } from "./support/database.js";

const shipped = readMigrations().map((m) => m.name);
const cleanups: Array<() => unknown> = [];
const track = <T extends TestDatabase>(t: T) => (cleanups.push(() => t.close()), t);
const folderCopy = () => {
  const copy = copyOfDrizzle();
  cleanups.push(copy.remove);
  return copy.folder;
};
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A lone client as the test owner, outside the pool `migrate` uses: another application session. */
async function otherSession(t: TestDatabase): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  cleanups.push(() => client.end());
  return client;
}

const logOf = (db: Database, name: string) =>
  queryRows(
    db,
    sql`SELECT direction, applied_via, duration_ms FROM migrations_log WHERE migration_name = ${name} ORDER BY id`,
  );

const indexState = async (db: Database, name: string) =>
  (await queryRows(db, sql`SELECT x.indisvalid AS valid FROM pg_index x WHERE x.indexrelid = to_regclass(${name})`))[0]
    ?.valid;

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("non-transactional migrations (-- sensa-db: no-transaction)", { timeout: 180_000 }, () => {
  it("runs alone between the batches before and after it, statement by statement, logged and checksummed", async () => {
    const folder = folderCopy();
    addMigration(folder, "0004_notes", ["CREATE TABLE notes (id int PRIMARY KEY, body text)"]);
    addMigration(
      folder,
      "0005_notes_body_idx",
      ['CREATE INDEX CONCURRENTLY IF NOT EXISTS "notes_body_idx" ON "notes" USING btree ("body")'],
      { noTransaction: true },
    );
    addMigration(folder, "0006_notes_title", ["ALTER TABLE notes ADD COLUMN title text"]);
    const { db } = track(await openEmptyDatabase());
    const result = await migrate(db, { migrationsFolder: folder, lockRetries: 1 });
    expect(result.applied).toEqual([...shipped, "0004_notes", "0005_notes_body_idx", "0006_notes_title"]);
    expect(await indexState(db, "notes_body_idx")).toBe(true);
    expect(await logOf(db, "0005_notes_body_idx")).toEqual([
      { direction: "up", applied_via: "migrate()", duration_ms: expect.any(Number) },
    ]);
    const files = readMigrations(folder);
    expect((await readApplied(db)).map((a) => a.hash)).toEqual(files.map((f) => f.hash));
    // Checksummed like any other: editing it after it was applied is refused.
    appendFileSync(join(folder, "0005_notes_body_idx.sql"), "-- edited\n");
    await expect(migrate(db, { migrationsFolder: folder })).rejects.toBeInstanceOf(MigrationChecksumError);
  });

  it("a failed CONCURRENTLY build leaves an INVALID index, named in the error with the way out; the next migrate drops it and builds it again", async () => {
    const folder = folderCopy();
    addMigration(folder, "0004_codes", ["CREATE TABLE codes (v int)", "INSERT INTO codes VALUES (1), (1), (2)"]);
    addMigration(
      folder,
      "0005_codes_v_key",
      ["CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS codes_v_key ON codes (v)"],
      { noTransaction: true },
    );
    const { db } = track(await openEmptyDatabase());
    const error = await migrate(db, { migrationsFolder: folder, lockRetries: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonTransactionalMigrationError);
    expect(error).toMatchObject({ migration: "0005_codes_v_key", invalidIndex: "codes_v_key", committed: 0 });
    expect((error as Error).message).toMatch(/could not create unique index "codes_v_key"/);
    expect((error as Error).message).toMatch(
      /INVALID index codes_v_key .*the next migrate drops it and builds it again/,
    );
    expect((error as Error).message).toMatch(/Applied before it, in earlier transactions, and kept: .*0004_codes/);
    expect(await indexState(db, "codes_v_key")).toBe(false);
    expect((await readApplied(db)).length).toBe(shipped.length + 1);

    await db.execute(sql`DELETE FROM codes WHERE ctid = (SELECT max(ctid) FROM codes WHERE v = 1)`);
    const dropped: string[] = [];
    const result = await migrate(db, { migrationsFolder: folder, onInvalidIndexDropped: (i) => dropped.push(i) });
    expect(result.applied).toEqual(["0005_codes_v_key"]);
    expect(dropped).toEqual(["codes_v_key"]);
    expect(await indexState(db, "codes_v_key")).toBe(true);
  });

  it.skipIf(!onServer())(
    "builds an index CONCURRENTLY on a table with 300,000 rows while another connection keeps writing, and no write waits 1 s (server: PGlite has one session)",
    async () => {
      const t = track(await openTestDatabase());
      await t.db.execute(
        sql`CREATE TABLE write_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL)`,
      );
      await t.db.execute(
        sql`INSERT INTO write_log (body) SELECT md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 300000) i`,
      );
      const folder = folderCopy();
      const generated = concurrentIndexMigration([
        'CREATE INDEX "write_log_body_idx" ON "write_log" USING btree ("body");',
      ])!;
      addMigration(
        folder,
        "0004_write_log_body_idx",
        [
          generated
            .split("\n")
            .filter((l) => !l.startsWith("--"))
            .join("\n")
            .trim(),
        ],
        { noTransaction: true },
      );

      const writer = await otherSession(t);
      let building = true;
      let writes = 0;
      let maxStallMs = 0;
      const writing = (async () => {
        while (building) {
          const started = performance.now();
          await writer.query("INSERT INTO write_log (body) VALUES (md5(random()::text))");
          maxStallMs = Math.max(maxStallMs, performance.now() - started);
          writes++;
        }
      })();
      await until(() => writes > 20, "the writer to start");
      const before = writes;
      const started = performance.now();
      // One retry: a snapshot the build waits for (the migration lock's holder keeping one, say)
      // fails it in seconds rather than minutes.
      const result = await migrate(t.db, { migrationsFolder: folder, lockRetries: 1 });
      const buildMs = performance.now() - started;
      building = false;
      await writing;
      console.log(
        `CONCURRENTLY build: ${Math.round(buildMs)} ms; ${writes - before} writes meanwhile; longest write ${maxStallMs.toFixed(1)} ms`,
      );

      expect(result.applied).toEqual(["0004_write_log_body_idx"]);
      expect(await indexState(t.db, "write_log_body_idx")).toBe(true);
      expect(writes - before).toBeGreaterThan(50);
      expect(maxStallMs).toBeLessThan(1000);
      expect(await logOf(t.db, "0004_write_log_body_idx")).toEqual([
        { direction: "up", applied_via: "migrate()", duration_ms: expect.any(Number) },
      ]);
    },
  );
});

describe("lock_timeout with retry", { timeout: 180_000 }, () => {
  it.skipIf(!onServer())(
    "a migration waiting behind a long transaction times out, retries, and succeeds once it ends; meanwhile nothing is applied and the table stays readable (server: PGlite has one session)",
    async () => {
      const t = track(await openTestDatabase());
      await t.db.execute(sql`CREATE TABLE busy (id int)`);
      const folder = folderCopy();
      addMigration(folder, "0004_early", ["CREATE TABLE early (id int)"]);
      addMigration(folder, "0005_busy_note", ["ALTER TABLE busy ADD COLUMN note text"]);
      const blocker = await otherSession(t);
      await blocker.query("BEGIN");
      await blocker.query("SELECT * FROM busy"); // holds ACCESS SHARE on busy until COMMIT

      const events: LockTimeoutEvent[] = [];
      const migrating = migrate(t.db, {
        migrationsFolder: folder,
        lockTimeoutMs: 200,
        retryDelayMs: 100,
        lockRetries: 50,
        onLockTimeout: (e) => events.push(e),
      });
      await until(() => events.length >= 2, "two lock timeouts");

      const reader = await otherSession(t);
      await reader.query("SET statement_timeout = '5s'");
      expect((await reader.query("SELECT count(*)::int AS n FROM busy")).rows).toEqual([{ n: 0 }]);
      expect(
        (
          await reader.query(
            "SELECT to_regclass('early') AS early, (SELECT count(*)::int FROM drizzle.__drizzle_migrations) AS recorded",
          )
        ).rows,
      ).toEqual([{ early: null, recorded: shipped.length }]);

      await blocker.query("COMMIT");
      const result = await migrating;
      console.log(`lock_timeout 200 ms: ${result.lockRetries} retries before the long transaction ended`);
      expect(result.applied).toEqual(["0004_early", "0005_busy_note"]);
      expect(result.lockRetries).toBeGreaterThanOrEqual(2);
      expect(events[0]).toMatchObject({
        migration: "0005_busy_note",
        statement: "ALTER TABLE busy ADD COLUMN note text",
        attempt: 1,
      });
      expect(await logOf(t.db, "0004_early")).toHaveLength(1);
      expect(await logOf(t.db, "0005_busy_note")).toHaveLength(1);
    },
  );

  it.skipIf(!onServer())(
    "gives up after its retries with MigrationLockTimeoutError, having applied nothing (server)",
    async () => {
      const t = track(await openTestDatabase());
      await t.db.execute(sql`CREATE TABLE busy (id int)`);
      const folder = folderCopy();
      addMigration(folder, "0004_early", ["CREATE TABLE early (id int)"]);
      addMigration(folder, "0005_busy_note", ["ALTER TABLE busy ADD COLUMN note text"]);
      const blocker = await otherSession(t);
      await blocker.query("BEGIN");
      await blocker.query("SELECT * FROM busy");
      const error = await migrate(t.db, {
        migrationsFolder: folder,
        lockTimeoutMs: 100,
        retryDelayMs: 50,
        lockRetries: 2,
      }).catch((e: unknown) => e);
      await blocker.query("COMMIT");
      expect(error).toBeInstanceOf(MigrationLockTimeoutError);
      expect(error).toMatchObject({ migration: "0005_busy_note", attempts: 3, lockTimeoutMs: 100 });
      expect((error as Error).message).toMatch(/lock timeout/);
      expect(await queryRows(t.db, sql`SELECT to_regclass('early') AS early`)).toEqual([{ early: null }]);
      expect((await readApplied(t.db)).length).toBe(shipped.length);
    },
  );

  it("sets lock_timeout for the batch's statements, 5 s by default or as configured", async () => {
    const folder = folderCopy();
    addMigration(folder, "0004_timeouts", [
      "CREATE TABLE seen_timeouts AS SELECT current_setting('lock_timeout') AS value",
    ]);
    addMigration(folder, "0005_timeouts", ["INSERT INTO seen_timeouts SELECT current_setting('lock_timeout')"]);
    const { db } = track(await openEmptyDatabase());
    await migrate(db, { migrationsFolder: folder, to: "0004_timeouts" });
    await migrate(db, { migrationsFolder: folder, lockTimeoutMs: 750 });
    expect(await queryRows(db, sql`SELECT value FROM seen_timeouts`)).toEqual([{ value: "5s" }, { value: "750ms" }]);
  });
});
