import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, inject, it } from "vitest";
import { ConnectionLostError } from "../src/index.js";
import { getTableConfig } from "drizzle-orm/pg-core";
import { seed } from "../src/seed/index.js";
import { LOAD_ORDER } from "../src/seed/load.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

// A seed is one transaction: killed or cut off at any point before its COMMIT, the server rolls
// it back, and with it the DROP of the HNSW indexes. These tests interrupt real seeds.
const server = inject("testServer");
const noServer = server
  ? undefined
  : "needs a PostgreSQL server: PGlite runs inside the test's own process, so there is no client to kill apart from it";

// ~4,000 embeddings: a load of a few seconds and index builds of about a second each.
const PLAN = {
  seed: 5,
  users: 30,
  coursesPerUser: 2,
  documentsPerCourse: 10,
  chaptersPerDocument: 2,
  keywordsPerChapter: 2,
  relationshipsPerChapter: 1,
  deferIndexes: true,
} as const;
const CLI_PLAN = [
  "--seed",
  "5",
  "--users",
  "30",
  "--courses-per-user",
  "2",
  "--documents-per-course",
  "10",
  "--chapters-per-document",
  "2",
  "--keywords-per-chapter",
  "2",
  "--relationships-per-chapter",
  "1",
  "--defer-indexes",
  "yes",
];
const HNSW = ["chapters_embedding_idx", "keywords_embedding_idx", "processed_documents_embedding_idx"];
const TABLES = LOAD_ORDER.map(([, table]) => getTableConfig(table).name);

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const databaseOf = (d: TestDatabase) => new URL(d.url!).pathname.slice(1);

/** The HNSW indexes that exist, each only if valid and ready (seen as a superuser, past RLS). */
async function validHnswIndexes(d: TestDatabase): Promise<string[]> {
  const rows = await d.superuserRows(
    "SELECT c.relname AS name FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'hnsw' AND x.indisvalid AND x.indisready ORDER BY 1",
  );
  return rows.map((r) => String(r.name));
}

/**
 * What a bulk load suspends (src/seed/bulk.ts), as the catalog says: the seeded tables' foreign
 * keys (validated or not), their secondary indexes (valid and ready) and their triggers (enabled).
 */
async function suspendable(d: TestDatabase): Promise<{ foreignKeys: string[]; indexes: string[]; triggers: string[] }> {
  const relations = `'{${TABLES.join(",")}}'::regclass[]`;
  const lines = async (query: string) => (await d.superuserRows(query)).map((r) => String(r.line));
  return {
    foreignKeys: await lines(
      `SELECT conname || ' validated=' || convalidated AS line FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(${relations}) ORDER BY 1`,
    ),
    indexes: await lines(
      `SELECT pg_get_indexdef(indexrelid) || ' valid=' || (indisvalid AND indisready) AS line FROM pg_index WHERE indrelid = ANY(${relations}) AND NOT indisunique ORDER BY 1`,
    ),
    triggers: await lines(
      `SELECT tgrelid::regclass || '.' || tgname || ' enabled=' || tgenabled::text AS line FROM pg_trigger WHERE tgrelid = ANY(${relations}) AND NOT tgisinternal ORDER BY 1`,
    ),
  };
}

const rowCounts = async (d: TestDatabase) =>
  (
    await d.superuserRows(
      "SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM keywords)::int AS keywords",
    )
  )[0];

/** Waits for a session of `application` on the database to run a statement matching `statement`; returns its pid. */
async function sessionRunning(d: TestDatabase, application: string, statement: RegExp): Promise<number> {
  for (let i = 0; i < 3000; i++) {
    const rows = await d.superuserRows(
      `SELECT pid, query FROM pg_stat_activity WHERE datname = '${databaseOf(d)}' AND application_name = '${application}' AND state = 'active'`,
    );
    const hit = rows.find((r) => statement.test(String(r.query)));
    if (hit) return Number(hit.pid);
    await sleep(10);
  }
  throw new Error(`no session of ${application} ran ${statement} within 30 s`);
}

/** Waits until the server has ended every session of `application` on the database (rolled back what it left open). */
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

/** The CLI names its sessions "sensa-db seed" unless PGAPPNAME says otherwise. */
function withoutAppName(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PGAPPNAME: _, ...rest } = env;
  return rest;
}

/** `sensa-db seed` in a child process of its own (node itself, so a signal reaches the process holding the connection). */
function seedCli(d: TestDatabase) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "seed", ...CLI_PLAN], {
    env: { ...withoutAppName(process.env), DATABASE_URL: d.url! },
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe.skipIf(noServer)(`an interrupted seed keeps the schema${noServer ? ` (skipped: ${noServer})` : ""}`, () => {
  it.each([
    ["during the load (a COPY)", /^COPY /],
    ["during the HNSW index build", /^CREATE INDEX keywords_embedding_idx/],
  ])(
    "a seed killed with SIGKILL %s leaves the three HNSW indexes valid, every foreign key, secondary index and trigger as it was, and none of its rows",
    async (_, statement) => {
      t = await openTestDatabase();
      const before = await rowCounts(t);
      const schema = await suspendable(t);
      expect(schema.foreignKeys).toHaveLength(22);
      expect(schema.triggers.filter((l) => /\.inherit_owner enabled=O$/.test(l))).toHaveLength(7);
      const cli = seedCli(t);
      await sessionRunning(t, "sensa-db seed", statement);
      cli.child.kill("SIGKILL");
      expect(await cli.exited).toBe(null);
      await sessionsGone(t, "sensa-db seed");
      expect(await validHnswIndexes(t)).toEqual(HNSW);
      expect(await suspendable(t)).toEqual(schema);
      expect(await rowCounts(t)).toEqual(before);
    },
  );

  it("a seed killed during the load leaves nothing in the way of the next: run again, it writes the whole data set and rebuilds the indexes", async () => {
    t = await openTestDatabase();
    const schema = await suspendable(t);
    const killed = seedCli(t);
    await sessionRunning(t, "sensa-db seed", /^COPY /);
    killed.child.kill("SIGKILL");
    await killed.exited;
    await sessionsGone(t, "sensa-db seed");
    const finished = seedCli(t);
    expect(await finished.exited).toBe(0);
    expect(await validHnswIndexes(t)).toEqual(HNSW);
    expect(await suspendable(t)).toEqual(schema);
    expect(await rowCounts(t)).toEqual({ users: 30, keywords: 2400 });
  });

  it("a seed whose backend is terminated (pg_terminate_backend) during the load reports one error, the lost connection, and the indexes stay", async () => {
    t = await openTestDatabase();
    const schema = await suspendable(t);
    const cli = seedCli(t);
    const pid = await sessionRunning(t, "sensa-db seed", /^COPY /);
    await t.superuserRows(`SELECT pg_terminate_backend(${pid})`);
    expect(await cli.exited).toBe(1);
    const errors = cli
      .stderr()
      .split("\n")
      .filter((line) => line.startsWith("sensa-db seed:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/connection was lost/);
    expect(cli.stderr()).not.toMatch(/^\s+at /m); // no stack trace
    expect(await validHnswIndexes(t)).toEqual(HNSW);
    expect(await suspendable(t)).toEqual(schema);
    expect(await rowCounts(t)).toEqual({ users: 0, keywords: 0 });
  });

  it("the library's seed, its backend terminated during the load, rejects with a ConnectionLostError saying nothing was written; the pool serves the next query", async () => {
    t = await openTestDatabase();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const schema = await suspendable(t);
      const seeding = seed(t.db, PLAN);
      seeding.catch(() => {});
      const pid = await sessionRunning(t, "@sensa-learn/db", /^COPY /);
      await t.superuserRows(`SELECT pg_terminate_backend(${pid})`);
      const error = await seeding.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as Error).message).toMatch(
        /^seed: the connection was lost during the load \(.*\); .*rolled it back: no row of it was written and the indexes, foreign keys and triggers are as they were$/,
      );
      await sleep(100);
      expect(unhandled).toEqual([]);
      expect(await validHnswIndexes(t)).toEqual(HNSW);
      expect(await suspendable(t)).toEqual(schema);
      expect(await rowCounts(t)).toEqual({ users: 0, keywords: 0 });
      // The dead connection was dropped, not handed out again.
      const again = await seed(t.db, { seed: 6, users: 1, deferIndexes: true });
      expect(again.totalRows).toBeGreaterThan(0);
      expect(await validHnswIndexes(t)).toEqual(HNSW);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
