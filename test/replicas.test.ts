import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  ConnectionLostError,
  courses,
  createDb,
  findOrCreateUser,
  findSimilarDocuments,
  findSimilarKeywords,
  getCourseStats,
  getUserLearningStats,
  getUserProgressSummary,
  migrate,
  primaryLsn,
  ReadOnlyTransactionError,
  ReplicaTargetError,
  replicaStats,
  replicationLag,
  health,
  searchCourses,
  searchKeywords,
  withAdmin,
  withUserContext,
  type Database,
  type Queryable,
} from "../src/index.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser, embeddingAlong } from "./support/fixtures.js";
import { replicaAndPoolerUnavailable, useReplicaAndPooler, type ReplicaAndPooler } from "./support/replica.js";
import { APP_LOGIN, OWNER, urlFor } from "./support/server.js";

const run = promisify(execFile);
const unavailable = replicaAndPoolerUnavailable();

let t: TestDatabase;
let servers: ReplicaAndPooler;
let name: string;
/** The app login, reading from the standby, writing to the primary. */
let db: Database;
let replicaUrl: string;
let alice: string;
let bob: string;
let aliceCourse: string;

/** Runs SQL as a superuser on the standby's copy of this file's database. */
async function onStandby<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: urlFor(servers.replicaAdminUrl, name) });
  await c.connect();
  try {
    return (await c.query<R>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** Waits until the standby has replayed the primary's current position (counts rounds, no clock). */
async function untilReplayed(): Promise<void> {
  const lsn = await primaryLsn(t.db);
  for (let round = 0; round < 600; round++) {
    const [row] = await onStandby<{ ok: boolean }>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok", [lsn]).catch(
      () => [{ ok: false }],
    );
    if (row!.ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the standby did not replay ${lsn}`);
}

const whereAmI = (tx: Queryable) =>
  tx.execute(sql`SELECT pg_is_in_recovery() AS replica, current_user AS role, current_setting('app.current_user_id') AS user_id,
    current_setting('transaction_read_only') AS read_only`) as unknown as Promise<{
    rows: Array<{ replica: boolean; role: string; user_id: string; read_only: string }>;
  }>;

describe.skipIf(unavailable)("read replicas (a real hot standby streaming from the primary)", () => {
  beforeAll(async () => {
    servers = await useReplicaAndPooler();
    t = await openTestDatabase();
    name = new URL(t.url!).pathname.slice(1);
    alice = (await createUser(t.db)).id;
    bob = (await createUser(t.db)).id;
    aliceCourse = (await createCourseTree(t.db, alice, { title: "Cell Biology" })).course.id;
    await createCourseTree(t.db, bob, { title: "Medieval History" });
    await untilReplayed();
    replicaUrl = urlFor(servers.replicaAdminUrl, name, APP_LOGIN);
    db = createDb({ url: t.appUrl!, replicaUrls: [replicaUrl] });
  });
  afterAll(async () => {
    if (db) await closeDb(db);
    await t?.close();
    await servers?.release();
  });

  it("a read-only context runs on the replica as the same user and role, in a READ ONLY transaction", async () => {
    const before = replicaStats(db).onReplica;
    const { rows } = await withUserContext(db, alice, whereAmI, { readOnly: true });
    expect(rows[0]).toEqual({ replica: true, role: "sensa_app", user_id: alice, read_only: "on" });
    expect(replicaStats(db).onReplica).toBe(before + 1);
  });

  it("a context without readOnly runs on the primary", async () => {
    const { rows } = await withUserContext(db, alice, whereAmI);
    expect(rows[0]).toMatchObject({ replica: false, read_only: "off" });
  });

  it("row-level security holds on the replica: a user sees only their own courses there", async () => {
    const mine = await withUserContext(db, alice, (tx) => tx.select().from(courses), { readOnly: true });
    expect(mine.map((c) => c.userId)).toEqual([alice]);
    const theirs = await withUserContext(db, bob, (tx) => tx.select().from(courses), { readOnly: true });
    expect(theirs.map((c) => c.title)).toEqual(["Medieval History"]);
  });

  it("a write on the primary becomes visible through a read-only context once the replica has replayed it", async () => {
    await withUserContext(db, alice, (tx) =>
      tx.insert(courses).values({ userId: alice, title: "Replicated Genetics" }),
    );
    await untilReplayed();
    const titles = await withUserContext(
      db,
      alice,
      async (tx) => {
        const { rows } = await whereAmI(tx);
        expect(rows[0]!.replica).toBe(true);
        return (await tx.select({ title: courses.title }).from(courses)).map((c) => c.title);
      },
      { readOnly: true },
    );
    expect(titles).toContain("Replicated Genetics");
  });

  it("a write inside a read-only context fails with ReadOnlyTransactionError, on the replica and on the primary", async () => {
    const write = (tx: Queryable) => tx.insert(courses).values({ userId: alice, title: "Not allowed" });
    await expect(withUserContext(db, alice, write, { readOnly: true })).rejects.toBeInstanceOf(
      ReadOnlyTransactionError,
    );
    const primaryOnly = createDb({ url: t.appUrl! });
    try {
      const error = await withUserContext(primaryOnly, alice, write, { readOnly: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReadOnlyTransactionError);
      expect(error).toMatchObject({ code: "READ_ONLY_TRANSACTION", sqlState: "25006" });
    } finally {
      await closeDb(primaryOnly);
    }
  });

  describe("every typed wrapper works in a read-only context on the replica", () => {
    const cases: Array<[string, (tx: Queryable) => Promise<unknown>, (result: unknown) => void]> = [
      [
        "findSimilarDocuments",
        (tx) => findSimilarDocuments(tx, { embedding: embeddingAlong(0), threshold: 0.5 }),
        (r) => expect(r).toHaveLength(1),
      ],
      [
        "findSimilarKeywords",
        (tx) => findSimilarKeywords(tx, { embedding: embeddingAlong(10) }),
        (r) => expect((r as Array<{ term: string }>)[0]!.term).toBe("mitochondria"),
      ],
      [
        "searchCourses",
        (tx) => searchCourses(tx, { userId: alice, query: "biology" }),
        (r) => expect((r as Array<{ title: string }>)[0]!.title).toBe("Cell Biology"),
      ],
      [
        "searchKeywords",
        (tx) => searchKeywords(tx, { courseId: aliceCourse, query: "mitocondria" }),
        (r) => expect((r as Array<{ term: string }>)[0]!.term).toBe("mitochondria"),
      ],
      [
        "getCourseStats",
        (tx) => getCourseStats(tx, { courseId: aliceCourse }),
        (r) => expect(r).toMatchObject({ chapterCount: 2, keywordCount: 1 }),
      ],
      [
        "getUserProgressSummary",
        (tx) => getUserProgressSummary(tx, { userId: alice, courseId: aliceCourse }),
        (r) => expect(r).not.toBeNull(),
      ],
      ["getUserLearningStats", (tx) => getUserLearningStats(tx, { userId: alice }), (r) => expect(r).not.toBeNull()],
    ];
    it.each(cases)("%s answers on the replica", async (_, call, check) => {
      const result = await withUserContext(
        db,
        alice,
        async (tx) => {
          expect((await whereAmI(tx)).rows[0]!.replica).toBe(true);
          return call(tx);
        },
        { readOnly: true },
      );
      check(result);
    });

    it("findOrCreateUser, which may create the user, fails with ReadOnlyTransactionError for a new user", async () => {
      const signIn = (tx: Queryable) =>
        findOrCreateUser(tx, { cognitoSub: `cognito-new-${alice}`, email: `new-${alice.slice(0, 8)}@example.com` });
      await expect(withUserContext(db, alice, signIn, { readOnly: true })).rejects.toBeInstanceOf(
        ReadOnlyTransactionError,
      );
    });
  });

  it("replicationLag reports the replica's lag and its replay position", async () => {
    await untilReplayed();
    const [lag] = await replicationLag(db);
    expect(lag).toMatchObject({ replica: expect.stringContaining(":5442/"), inRecovery: true });
    expect(lag!.lagMs).toBeGreaterThanOrEqual(0);
    expect(lag!.replayLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });

  it("sensa-db inspect health checks the replicas the database reads from: ok while they answer, naming one that does not", async () => {
    await untilReplayed();
    // health is the operator's: run as the owner, reading from the standby as the owner too.
    const asOwner = (...replicaUrls: string[]) => createDb({ url: t.url!, replicaUrls });
    const standby = urlFor(servers.replicaAdminUrl, name, OWNER);
    const [live, withDead] = [
      asOwner(standby),
      asOwner(standby, urlFor("postgres://postgres@127.0.0.1:1/postgres", name, OWNER)),
    ];
    try {
      expect((await health(live)).checks.find((c) => c.name === "configured replicas")).toMatchObject({ ok: true });
      const replicas = (await health(withDead)).checks.find((c) => c.name === "configured replicas")!;
      expect(replicas.ok).toBe(false);
      expect(replicas.problems.join("\n")).toMatch(/127\.0\.0\.1:1\/.* does not answer/);
    } finally {
      await closeDb(live);
      await closeDb(withDead);
    }
  });

  describe("with replay paused on the standby", () => {
    beforeAll(async () => {
      await onStandby("SELECT pg_wal_replay_pause()");
      // A write the standby receives but does not apply: from here on it lags.
      await withUserContext(db, alice, (tx) =>
        tx.insert(courses).values({ userId: alice, title: "Written while paused" }),
      );
    });
    afterAll(async () => {
      await onStandby("SELECT pg_wal_replay_resume()");
    });

    it("a replica lagging past maxLagMs is skipped and the context runs on the primary", async () => {
      const lagging = createDb({
        url: t.appUrl!,
        replicaUrls: [replicaUrl],
        replicas: { maxLagMs: 0, lagCheckIntervalMs: 0 },
      });
      try {
        // The standby has received the write's WAL (so it is measurably behind) once it streams it.
        for (let round = 0; round < 200 && ((await replicationLag(lagging))[0]!.lagMs ?? 0) === 0; round++)
          await new Promise((r) => setTimeout(r, 25));
        const { rows } = await withUserContext(lagging, alice, whereAmI, { readOnly: true });
        expect(rows[0]!.replica).toBe(false);
        expect(replicaStats(lagging)).toMatchObject({ onReplica: 0, onPrimary: 1, lagging: 1 });
      } finally {
        await closeDb(lagging);
      }
    });

    it("read-your-writes: with minLsn a context the replica has not caught up with runs on the primary and sees the write", async () => {
      await withUserContext(db, alice, (tx) => tx.insert(courses).values({ userId: alice, title: "My own write" }));
      const minLsn = await primaryLsn(db);
      const before = replicaStats(db);
      const titles = await withUserContext(
        db,
        alice,
        async (tx) => (await tx.select({ title: courses.title }).from(courses)).map((c) => c.title),
        {
          readOnly: true,
          minLsn,
        },
      );
      expect(titles).toContain("My own write");
      expect(replicaStats(db).behindLsn).toBe(before.behindLsn + 1);
      expect(replicaStats(db).onPrimary).toBe(before.onPrimary + 1);
    });
  });

  it("migrate refuses to run against a replica, saying to connect to the primary", async () => {
    const onReplica = createDb({ url: urlFor(servers.replicaAdminUrl, name, OWNER) });
    try {
      const error = await migrate(onReplica).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplicaTargetError);
      expect((error as Error).message).toMatch(/read replica .*Connect to the primary/);
    } finally {
      await closeDb(onReplica);
    }
  });

  it("the admin context can read on the replica too", async () => {
    const owner = createDb({ url: t.url!, replicaUrls: [urlFor(servers.replicaAdminUrl, name, OWNER)] });
    try {
      await untilReplayed();
      const all = await withAdmin(owner, (tx) => tx.select().from(courses), { readOnly: true });
      expect(new Set(all.map((c) => c.userId))).toEqual(new Set([alice, bob]));
      expect(replicaStats(owner).onReplica).toBe(1);
    } finally {
      await closeDb(owner);
    }
  });

  // Last: it stops the standby (and starts it again).
  it("stopping the replica under load falls back to the primary; only requests in flight fail", async () => {
    const loaded = createDb({
      url: t.appUrl!,
      replicaUrls: [replicaUrl],
      pool: { max: 10 },
      replicas: { retryAfterMs: 60_000 },
    });
    const total = 600;
    const concurrency = 10;
    const where = { replica: 0, primary: 0 };
    const failures: unknown[] = [];
    let started = 0;
    let stopped: Promise<unknown> | undefined;
    const worker = async () => {
      while (started < total) {
        const n = started++;
        if (n === 150)
          stopped = run("pg_ctlcluster", [servers.cluster.version, servers.cluster.name, "stop", "-m", "fast"]);
        try {
          const { rows } = await withUserContext(loaded, n % 2 ? alice : bob, whereAmI, { readOnly: true });
          where[rows[0]!.replica ? "replica" : "primary"]++;
          expect(rows[0]!.user_id).toBe(n % 2 ? alice : bob);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
      await stopped;
    } finally {
      // Its server must not inherit a lock descriptor (.ci/run's users lock) from this process.
      await run("bash", [
        "-c",
        `exec 8>&- 9>&-; pg_ctlcluster ${servers.cluster.version} ${servers.cluster.name} start`,
      ]).catch(() => undefined);
      await closeDb(loaded);
    }
    const stats = replicaStats(loaded);
    console.log(
      `replica stopped under load: ${total} read-only contexts, ${where.replica} on the replica, ${where.primary} on the primary, ${failures.length} failed (in flight); routing ${JSON.stringify(stats)}`,
    );
    expect(where.replica + where.primary + failures.length).toBe(total);
    expect(where.replica).toBeGreaterThanOrEqual(150 - concurrency);
    expect(where.primary).toBeGreaterThan(0);
    expect(failures.length).toBeLessThanOrEqual(concurrency);
    for (const f of failures) expect(f).toBeInstanceOf(ConnectionLostError);
    expect(stats.onPrimary).toBe(where.primary);
  });
});

describe("read-only contexts without replicas (on the server and on PGlite)", () => {
  let own: TestDatabase;
  beforeAll(async () => {
    own = await openTestDatabase();
  });
  afterAll(() => own?.close());

  it("runs in a READ ONLY transaction where a write fails with ReadOnlyTransactionError, and reads work", async () => {
    const id = (await createUser(own.db)).id;
    await createCourseTree(own.db, id);
    const write = withUserContext(own.db, id, (tx) => tx.insert(courses).values({ userId: id, title: "Not allowed" }), {
      readOnly: true,
    });
    await expect(write).rejects.toBeInstanceOf(ReadOnlyTransactionError);
    const read = await withUserContext(
      own.db,
      id,
      async (tx) => {
        const { rows } = (await tx.execute(sql`SELECT current_setting('transaction_read_only') AS ro`)) as unknown as {
          rows: Array<{ ro: string }>;
        };
        return { ro: rows[0]!.ro, titles: (await tx.select().from(courses)).map((c) => c.title) };
      },
      { readOnly: true },
    );
    expect(read).toEqual({ ro: "on", titles: ["Cell Biology"] });
  });
});

it.skipIf(!unavailable)("read replica tests are skipped: " + (unavailable ?? ""), () => undefined);
