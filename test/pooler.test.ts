import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, courses, createDb, DatabaseError, migrate, withUserContext, type Database } from "../src/index.js";
import { readMigrations } from "../src/migrations/files.js";
import { MIGRATION_LOCK_KEY } from "../src/migrations/session.js";
import { openEmptyDatabase, openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser } from "./support/fixtures.js";
import { replicaAndPoolerUnavailable, useReplicaAndPooler, type ReplicaAndPooler } from "./support/replica.js";
import { APP_LOGIN, OWNER, urlFor } from "./support/server.js";

const unavailable = replicaAndPoolerUnavailable();

let t: TestDatabase;
let servers: ReplicaAndPooler;
let name: string;
/** The app login through pgbouncer (transaction mode, 4 server connections per database and user). */
let db: Database;
let users: string[];

type Row = Record<string, unknown>;
const rowsOf = async (q: Promise<unknown>) => ((await q) as { rows: Row[] }).rows;

describe.skipIf(unavailable)("behind pgbouncer in transaction mode (a real pgbouncer in front of the primary)", () => {
  beforeAll(async () => {
    servers = await useReplicaAndPooler();
    t = await openTestDatabase();
    name = new URL(t.url!).pathname.slice(1);
    users = [];
    for (let i = 0; i < 50; i++) {
      const id = (await createUser(t.db)).id;
      await createCourseTree(t.db, id, { title: `Course of user ${i}`, chapterCount: 1 });
      users.push(id);
    }
    db = createDb({ url: urlFor(servers.poolerAdminUrl, name, APP_LOGIN), pool: { max: 100 } });
  });
  afterAll(async () => {
    if (db) await closeDb(db);
    await t?.close();
    await servers?.release();
  });

  it("a user sees only their own courses through pgbouncer", async () => {
    const mine = await withUserContext(db, users[0]!, (tx) => tx.select().from(courses));
    expect(mine.map((c) => c.userId)).toEqual([users[0]]);
  });

  it("3,000 concurrent contexts of 50 users through 4 server connections: no cross-user row, no leaked setting, lock or role", async () => {
    const calls = 3_000;
    const concurrency = 100;
    const counts = {
      calls: 0,
      ok: 0,
      thrownOnPurpose: 0,
      sqlErrorsOnPurpose: 0,
      unexpected: 0,
      crossUserRows: 0,
      leakedSettings: 0,
      rowsRead: 0,
    };
    const backends = new Set<number>();
    const unexpected: unknown[] = [];
    let next = 0;

    const one = async (n: number) => {
      const me = users[n % users.length]!;
      const kind = n % 10;
      try {
        await withUserContext(db, me, async (tx) => {
          // What a previous transaction on this server connection could have left behind.
          const [s] = await rowsOf(
            tx.execute(sql`SELECT pg_backend_pid() AS pid, current_setting('app.current_user_id') AS uid, current_user AS role,
              current_setting('search_path') AS search_path, current_setting('sensa.leak', true) AS leak,
              current_setting('statement_timeout') AS statement_timeout,
              (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks`),
          );
          backends.add(s!.pid as number);
          const clean =
            s!.uid === me &&
            s!.role === "sensa_app" &&
            s!.search_path === "public, pg_temp" &&
            !s!.leak &&
            s!.statement_timeout !== "1h" &&
            s!.advisory_locks === 0;
          if (!clean) counts.leakedSettings++;
          const rows = await tx.select({ userId: courses.userId }).from(courses);
          counts.rowsRead += rows.length;
          counts.crossUserRows += rows.filter((r) => r.userId !== me).length;
          if (kind === 2) {
            // Session-level state on purpose: the context must undo all of it before COMMIT.
            await tx.execute(sql`SELECT set_config('sensa.leak', ${`from ${me}`}, false), pg_advisory_lock(${n})`);
            await tx.execute(sql.raw("SET search_path = pg_catalog"));
            await tx.execute(sql.raw("SET statement_timeout = '1h'"));
            await tx.execute(sql`SELECT set_config('app.current_user_id', ${users[(n + 1) % users.length]!}, false)`);
          }
          if (kind === 0) {
            await tx.insert(courses).values({ userId: me, title: "Rolled back" });
            throw new Error("on purpose");
          }
          if (kind === 1) await tx.execute(sql`SELECT 1 / 0`);
        });
        counts.ok++;
      } catch (error) {
        if (kind === 0 && (error as Error).message === "on purpose") counts.thrownOnPurpose++;
        else if (kind === 1 && error instanceof DatabaseError && error.sqlState === "22012")
          counts.sqlErrorsOnPurpose++;
        else {
          counts.unexpected++;
          unexpected.push(error);
        }
      } finally {
        counts.calls++;
      }
    };
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < calls) await one(next++);
      }),
    );
    const rolledBack = await t.superuserRows("SELECT count(*)::int AS n FROM courses WHERE title = 'Rolled back'");
    console.log(
      `pgbouncer load: ${JSON.stringify(counts)}, over ${backends.size} server backends, ${concurrency} client connections`,
    );
    expect(unexpected).toEqual([]);
    expect(counts).toMatchObject({
      calls,
      ok: calls - 600,
      thrownOnPurpose: 300,
      sqlErrorsOnPurpose: 300,
      crossUserRows: 0,
      leakedSettings: 0,
    });
    expect(counts.rowsRead).toBe(calls); // one course each, read before any failure on purpose
    expect(rolledBack[0]!.n).toBe(0);
    expect(backends.size).toBeLessThanOrEqual(8);
  });

  it("outside any context a pooled connection carries no user id, role or setting a context made", async () => {
    const pool = db.$client as pg.Pool;
    for (let i = 0; i < 40; i++) {
      const { rows } = await pool.query<Row>(
        "SELECT current_setting('app.current_user_id', true) AS uid, current_user AS role, current_setting('sensa.leak', true) AS leak, current_setting('search_path') AS search_path",
      );
      expect(rows[0]).toEqual({
        uid: expect.toSatisfy((v: unknown) => v === null || v === ""),
        role: APP_LOGIN,
        leak: expect.toSatisfy((v: unknown) => v === null || v === ""),
        search_path: '"$user", public',
      });
    }
  });

  it("three migrates at once through pgbouncer apply each migration once and leave no migration lock held", async () => {
    const empty = await openEmptyDatabase();
    const emptyName = new URL(empty.url!).pathname.slice(1);
    const viaPooler = [0, 1, 2].map(() => createDb({ url: urlFor(servers.poolerAdminUrl, emptyName, OWNER) }));
    try {
      const results = await Promise.all(viaPooler.map((d) => migrate(d)));
      const files = readMigrations().map((m) => m.name);
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, files.length]);
      const log = await empty.superuserRows(
        "SELECT migration_name, count(*)::int AS n FROM migrations_log WHERE direction = 'up' GROUP BY migration_name",
      );
      expect(log).toHaveLength(files.length);
      expect(log.every((r) => r.n === 1)).toBe(true);
      const held = await empty.superuserRows(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((classid::bigint << 32) | objid::bigint) = ${MIGRATION_LOCK_KEY}`,
      );
      expect(held[0]!.n).toBe(0);
    } finally {
      await Promise.all(viaPooler.map((d) => closeDb(d)));
      await empty.close();
    }
  });
});

it.skipIf(!unavailable)("pgbouncer tests are skipped: " + (unavailable ?? ""), () => undefined);
