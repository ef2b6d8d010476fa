import { execFile } from "node:child_process";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { closeDb, createDb, type Database } from "../src/connection.js";
import { ConnectionError } from "../src/db/errors.js";
import { clusterUnavailable, startTestCluster, type TestCluster } from "./support/cluster.js";
import { openEmptyDatabase, type TestDatabase } from "./support/database.js";
import { withClient } from "./support/server.js";

// The pool against a network that fails: backends killed while idle and under load, a server
// restarted under load, a server that accepts TCP and never answers. Nothing is mocked: the
// kills are pg_terminate_backend on the real server, the restart is pg_ctlcluster.

const server = inject("testServer");
const noServer = server ? undefined : "needs a PostgreSQL server (TEST_DATABASE_URL): PGlite has no backends to kill";
let test: TestDatabase;
let seq = 0;
beforeAll(async () => {
  if (server) test = await openEmptyDatabase();
});
afterAll(async () => {
  await test?.close();
});

/** A pool on this file's database whose backends can be found by application_name. */
function openPool(max: number) {
  const name = `sensa-net-${process.pid}-${++seq}`;
  const idleErrors: Error[] = [];
  const db = createDb({ url: test.url, applicationName: name, pool: { max }, onIdleError: (e) => idleErrors.push(e) });
  return { db, name, idleErrors };
}

const terminate = (applicationName: string) =>
  withClient(server!.adminUrl, async (c) => {
    const { rows } = await c.query<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [applicationName],
    );
    return rows[0]!.n;
  });

const selectOne = async (db: Database) => ((await db.execute(sql`SELECT 1 AS ok`)) as unknown as pg.QueryResult).rows;

async function until(condition: () => boolean, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await sleep(20);
}

interface Load {
  total: number;
  failed: number;
  /** ms since the start of the load */
  successes: number[];
  failures: Array<{ at: number; message: string }>;
}

/**
 * `workers` loops, each sending requests back to back until `stop` resolves: half plain queries,
 * half transactions that wait in Node between statements (a checked-out client, idle in
 * transaction on the server, as a request handler holds one). A failed request is counted and,
 * like a client retrying, the worker pauses `pauseAfterFailureMs` before its next.
 */
async function runLoad(db: Database, workers: number, stop: Promise<unknown>, pauseAfterFailureMs = 0): Promise<Load> {
  const started = performance.now();
  const load: Load = { total: 0, failed: 0, successes: [], failures: [] };
  let stopped = false;
  void stop.then(() => (stopped = true));
  const request = (n: number) =>
    n % 2
      ? db.execute(sql`SELECT pg_sleep(0.01)`)
      : db.transaction(async (tx) => {
          await tx.execute(sql`SELECT 1`);
          await sleep(10);
          await tx.execute(sql`SELECT 2`);
        });
  await Promise.all(
    Array.from({ length: workers }, async (_, n) => {
      while (!stopped) {
        load.total++;
        try {
          await request(n);
          load.successes.push(performance.now() - started);
        } catch (error) {
          load.failed++;
          let e: unknown = error;
          while (e instanceof Error && e.cause instanceof Error) e = e.cause;
          load.failures.push({ at: performance.now() - started, message: (e as Error).message });
          if (pauseAfterFailureMs) await sleep(pauseAfterFailureMs);
        }
      }
    }),
  );
  return load;
}

describe.skipIf(noServer)(`backends terminated under the pool${noServer ? ` (skipped: ${noServer})` : ""}`, () => {
  it("survives idle pooled backends being killed, and the next query gets a fresh connection", async () => {
    const { db, name, idleErrors } = openPool(5);
    try {
      await Promise.all(Array.from({ length: 5 }, () => db.execute(sql`SELECT pg_sleep(0.05)`)));
      expect(await terminate(name)).toBe(5);
      await until(() => idleErrors.length === 5, 5000);
      expect(idleErrors).toHaveLength(5);
      expect(idleErrors[0]!.message).toMatch(/terminating connection due to administrator command/);
      expect(await selectOne(db)).toEqual([{ ok: 1 }]);
    } finally {
      await closeDb(db);
    }
  });

  it("survives a checked-out client's backend being killed inside a transaction", async () => {
    const { db, name } = openPool(2);
    try {
      const client = await (db.$client as pg.Pool).connect();
      await client.query("BEGIN");
      expect(await terminate(name)).toBe(1);
      await sleep(200); // the socket closes while nobody is querying: the client emits "error" now
      const error = await client.query("SELECT 1").then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/terminating connection|not queryable|Connection terminated/);
      client.release(error);
      expect(await selectOne(db)).toEqual([{ ok: 1 }]);
    } finally {
      await closeDb(db);
    }
  });

  it("fails only the requests in flight when every pooled backend is killed mid-load, three times", async () => {
    const max = 10;
    const { db, name, idleErrors } = openPool(max);
    let killed = 0;
    try {
      const kills = (async () => {
        for (let i = 0; i < 3; i++) {
          await sleep(500);
          killed += await terminate(name);
        }
        await sleep(500);
      })();
      const load = await runLoad(db, 30, kills);
      console.log(
        `[network] ${killed} backends killed in 3 rounds under 30 concurrent requests (pool max ${max}): ` +
          `${load.failed} of ${load.total} requests failed (${((100 * load.failed) / load.total).toFixed(2)}%), ${idleErrors.length} idle connections lost, process alive`,
      );
      expect(killed).toBeGreaterThanOrEqual(3);
      expect(load.failed).toBeGreaterThan(0); // the kills did hit requests in flight…
      expect(load.failed).toBeLessThanOrEqual(killed); // …and a killed backend fails at most the request using it
      for (const f of load.failures)
        expect(f.message).toMatch(/terminating connection|Connection terminated|not queryable|ECONNRESET/);
      expect(await selectOne(db)).toEqual([{ ok: 1 }]);
    } finally {
      await closeDb(db);
    }
  });

  it("lets running queries finish when closed, then refuses new ones; closing twice is harmless", async () => {
    const { db } = openPool(5);
    // Drizzle's queries are lazy: .then() sends them now.
    const running = Array.from({ length: 5 }, () =>
      db.execute(sql`SELECT pg_sleep(0.3), 1 AS ok`).then((r) => (r as unknown as pg.QueryResult).rows[0].ok),
    );
    await sleep(50);
    await closeDb(db);
    expect(await Promise.all(running)).toEqual([1, 1, 1, 1, 1]);
    await expect(db.execute(sql`SELECT 1`)).rejects.toThrow();
    await closeDb(db);
  });
});

const noCluster = clusterUnavailable();
describe.skipIf(noCluster)(`a server restart under load${noCluster ? ` (skipped: ${noCluster})` : ""}`, () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster("sensa_restart", 5443);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it(
    "keeps the process up, fails requests only while the server is down, and recovers by itself",
    { timeout: 120_000 },
    async () => {
      const idleErrors: Error[] = [];
      const db = createDb({ url: cluster.url, pool: { max: 10 }, onIdleError: (e) => idleErrors.push(e) });
      try {
        const started = performance.now();
        let restartedAt = 0;
        let restartBegan = 0;
        const restart = (async () => {
          await sleep(1000);
          restartBegan = performance.now() - started;
          await cluster.restart();
          restartedAt = performance.now() - started;
          await sleep(2000);
        })();
        const load = await runLoad(db, 20, restart, 50);
        const [first, last] = [load.failures[0]?.at ?? NaN, load.failures.at(-1)?.at ?? NaN];
        const recovered = load.successes.find((t) => t > last) ?? Infinity;
        const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
        console.log(
          `[network] server restarted (pg_ctlcluster restart -m fast, ${s(restartedAt - restartBegan)}) under 20 concurrent requests, each pausing 50 ms after a failure: ` +
            `${load.failed} of ${load.total} requests failed in a ${s(performance.now() - started)} run (${((100 * load.failed) / load.total).toFixed(1)}%), ` +
            `from ${s(first - restartBegan)} to ${s(last - restartBegan)} after the restart began; the pool recovered: the next request succeeded ${s(recovered - last)} after the last failure; ` +
            `${idleErrors.length} idle connections lost; process alive`,
        );
        expect(load.failed).toBeGreaterThan(0);
        expect(load.failures.every((f) => f.at >= restartBegan)).toBe(true); // nothing failed before the restart
        expect(recovered - last).toBeLessThan(10_000);
        expect(last).toBeLessThan(restartedAt); // failures stop once the server is back
        expect(load.successes.filter((t) => t > restartedAt + 1000).length).toBeGreaterThan(0);
        expect(await selectOne(db)).toEqual([{ ok: 1 }]);
      } finally {
        await closeDb(db);
      }
    },
  );
});

describe("a server that accepts TCP and never answers", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let port: number;
  beforeAll(async () => {
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    port = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("fails a query with CONNECTION_TIMEOUT within the connect timeout instead of hanging", async () => {
    const db = createDb({ url: `postgres://app@127.0.0.1:${port}/sensa`, pool: { connectionTimeoutMillis: 1000 } });
    const started = performance.now();
    try {
      const error = await db.execute(sql`SELECT 1`).then(
        () => undefined,
        (e: Error) => e,
      );
      const elapsed = performance.now() - started;
      expect(error?.cause ?? error).toBeInstanceOf(ConnectionError);
      expect(error?.cause ?? error).toMatchObject({
        code: "CONNECTION_TIMEOUT",
        message: expect.stringMatching(
          /127\.0\.0\.1:\d+\/sensa \(from url\) did not complete a connection within 1000 ms/,
        ),
      });
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5000);
      // The lead's contexts check clients out directly: the same error there.
      await expect((db.$client as pg.Pool).connect()).rejects.toMatchObject({ code: "CONNECTION_TIMEOUT" });
    } finally {
      await closeDb(db);
    }
  });

  it("sensa-db gives up after PGCONNECT_TIMEOUT with one line, exit 1", async () => {
    const started = performance.now();
    const result = await promisify(execFile)("npx", ["tsx", "src/cli/main.ts", "status"], {
      env: {
        ...process.env,
        DATABASE_URL: "",
        PGHOST: "127.0.0.1",
        PGPORT: String(port),
        PGUSER: "app",
        PGCONNECT_TIMEOUT: "1",
      },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sensa-db: using PostgreSQL app@127\.0\.0\.1:\d+/);
    expect(lines[1]).toMatch(/^sensa-db status: .* did not complete a connection within 1000 ms/);
    expect(performance.now() - started).toBeLessThan(20_000);
  });
});
