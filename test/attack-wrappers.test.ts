import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  ContextClosedError,
  createDb,
  findOrCreateUser,
  findSimilarDocuments,
  findSimilarKeywords,
  getCourseStats,
  getUserLearningStats,
  getUserProgressSummary,
  searchCourses,
  searchKeywords,
  users,
  ValidationError,
  withAdmin,
  withUserContext,
  type Database,
  type Queryable,
  type Transaction,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser, embeddingAlong } from "./support/fixtures.js";

// An outsider's attacks on the SQL function wrappers, which since e3f2b15 send their fixed
// statement straight to the driver under the Queryable instead of through Drizzle's query
// builder. The context's guarantees must hold for that path too: a tx kept past its context
// refuses the call, a call outside any context sees nothing, another user's ids reveal nothing,
// and bad input is a ValidationError before any SQL.

let t: TestDatabase;
let a: { id: string; course: string; chapter: string };
let b: { id: string; course: string; chapter: string };

beforeAll(async () => {
  t = await openTestDatabase();
  const make = async (title: string) => {
    const id = (await createUser(t.db)).id;
    const tree = await createCourseTree(t.db, id, { title });
    return { id, course: tree.course.id, chapter: tree.chapters[0]!.id };
  };
  a = await make("Cell Biology of a");
  b = await make("Cell Biology of b");
});
afterAll(() => t?.close());

const embedding = embeddingAlong(0);

/** Every wrapper, called as user `as` would call it for the rows of `of` (ids of `of`). */
const everyWrapper = (of: {
  id: string;
  course: string;
  chapter: string;
}): Array<[string, (db: Queryable) => Promise<unknown>]> => [
  ["findSimilarDocuments", (db) => findSimilarDocuments(db, { embedding, threshold: 0 })],
  ["findSimilarKeywords", (db) => findSimilarKeywords(db, { embedding: embeddingAlong(10), chapterId: of.chapter })],
  ["searchCourses", (db) => searchCourses(db, { userId: of.id, query: "biology" })],
  ["searchKeywords", (db) => searchKeywords(db, { courseId: of.course, query: "mitochondria" })],
  ["getCourseStats", (db) => getCourseStats(db, { courseId: of.course })],
  ["getUserProgressSummary", (db) => getUserProgressSummary(db, { userId: of.id, courseId: of.course })],
  ["getUserLearningStats", (db) => getUserLearningStats(db, { userId: of.id })],
];

/** A pool of one connection (server), so the next context certainly reuses the backend; the embedded database itself. */
async function withOneConnection<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (!t.url) return fn(t.db);
  const db = createDb({ url: t.url, pool: { max: 1 } });
  try {
    return await fn(db);
  } finally {
    await closeDb(db);
  }
}

describe("a wrapper called on a context's tx after the context settled", () => {
  it.each(everyWrapper({ id: randomUUID(), course: randomUUID(), chapter: randomUUID() }))(
    "%s is refused with ContextClosedError (straight to the driver still goes through the context's gate)",
    async (_, call) => {
      let kept: Transaction | undefined;
      await withUserContext(t.db, randomUUID(), async (tx) => {
        kept = tx;
      });
      await expect(call(kept!)).rejects.toBeInstanceOf(ContextClosedError);
    },
  );

  it("findOrCreateUser on a tx kept from withAdmin is refused and creates no user", async () => {
    let kept: Transaction | undefined;
    await withAdmin(t.db, async (tx) => {
      kept = tx;
    });
    const sub = `late-${randomUUID()}`;
    await expect(
      findOrCreateUser(kept!, { cognitoSub: sub, email: `${sub.slice(0, 12)}@example.com` }),
    ).rejects.toBeInstanceOf(ContextClosedError);
    const found = await withAdmin(t.db, (tx) =>
      tx
        .select()
        .from(users)
        .where(sql`${users.cognitoSub} = ${sub}`),
    );
    expect(found).toEqual([]);
  });

  it("a savepoint's tx kept past the context is refused too", async () => {
    let kept: Transaction | undefined;
    await withUserContext(t.db, a.id, (tx) =>
      tx.transaction(async (sp) => {
        kept = sp as unknown as Transaction;
      }),
    );
    await expect(searchCourses(kept!, { userId: a.id, query: "biology" })).rejects.toBeInstanceOf(ContextClosedError);
  });

  it("a Promise.all branch calling a wrapper after its sibling failed never runs in the next user's context on the same connection", async () => {
    await withOneConnection(async (db) => {
      const late: { result?: unknown; error?: unknown } = {};
      let branch: Promise<unknown> | undefined;
      const failed = await withUserContext(db, a.id, (tx) => {
        branch = (async () => {
          await sleep(50); // still waiting when the sibling fails and the context ends
          return searchCourses(tx, { userId: a.id, query: "biology" });
        })().then(
          (r) => (late.result = r),
          (e: unknown) => (late.error = e),
        );
        return Promise.all([branch, Promise.reject(new Error("sibling failed"))]);
      }).catch((e: unknown) => e);
      expect((failed as Error).message).toBe("sibling failed");
      // b's request takes the same connection while a's branch wakes up.
      const mine = await withUserContext(db, b.id, async (tx) => {
        await sleep(100);
        return searchCourses(tx, { userId: b.id, query: "biology" });
      });
      await branch;
      expect(late.error).toBeInstanceOf(ContextClosedError);
      expect(late.result).toBeUndefined();
      expect(mine.map((c) => c.title)).toEqual(["Cell Biology of b"]);
    });
  });
});

describe("a wrapper given another user's ids, inside the caller's own context", () => {
  it.each(everyWrapper({ id: "", course: "", chapter: "" }).map(([name], i) => [name, i] as const))(
    "%s reveals nothing of them: the same answer as for ids that do not exist",
    async (_, i) => {
      const victim = everyWrapper(b)[i]![1];
      const nobody = everyWrapper({ id: randomUUID(), course: randomUUID(), chapter: randomUUID() })[i]![1];
      // a has a document embedded like b's; b's must not be among a's results.
      const seen = await withUserContext(t.db, a.id, (tx) => victim(tx));
      const none = await withUserContext(t.db, a.id, (tx) => nobody(tx));
      const text = JSON.stringify(seen);
      expect(text).not.toContain(b.course);
      expect(text).not.toContain("of b");
      if (i >= 2) expect(stripIds(seen)).toEqual(stripIds(none));
    },
  );
});

/** Outside any context: the owner (subject to FORCE ROW LEVEL SECURITY) and, on a server, the app login. */
describe("a wrapper called outside any context", () => {
  let appDb: Database | undefined;
  beforeAll(() => {
    if (t.appUrl) appDb = createDb({ url: t.appUrl, pool: { max: 2 } });
  });
  afterAll(async () => {
    if (appDb) await closeDb(appDb);
  });

  async function seesNothing(db: Database, who: string) {
    for (const [i, [name, call]] of everyWrapper(b).entries()) {
      const seen = await call(db);
      const none = await everyWrapper({ id: randomUUID(), course: randomUUID(), chapter: randomUUID() })[i]![1](db);
      expect(stripIds(seen), `${who}: ${name}`).toEqual(stripIds(none));
      expect(JSON.stringify(seen), `${who}: ${name}`).not.toContain("Cell Biology");
    }
  }

  it("as the owner sees no platform row: every wrapper answers as for ids that do not exist", () =>
    seesNothing(t.db, "the owner"));

  it.skipIf(!onServer())("as the app login sees no platform row either (server: PGlite has no app login)", () =>
    seesNothing(appDb!, "the app login"),
  );
});

describe("bad input to a wrapper", () => {
  const big = embeddingAlong(0);
  const cases: Array<[string, (db: Queryable) => Promise<unknown>]> = [
    ["an embedding of 769 dimensions", (db) => findSimilarDocuments(db, { embedding: [...big, 0] })],
    ["an empty embedding", (db) => findSimilarKeywords(db, { embedding: [] })],
    [
      "an embedding with a hole (sparse array)",
      (db) => findSimilarDocuments(db, { embedding: Object.assign(new Array<number>(768), { 0: 1 }) }),
    ],
    [
      "an embedding with a numeric string",
      (db) => findSimilarDocuments(db, { embedding: ["1", ...big.slice(1)] as unknown as number[] }),
    ],
    [
      "an embedding given as pgvector text",
      (db) => findSimilarDocuments(db, { embedding: JSON.stringify(big) as unknown as number[] }),
    ],
    ["an embedding with -Infinity", (db) => findSimilarKeywords(db, { embedding: [-Infinity, ...big.slice(1)] })],
    ["a negative limit", (db) => findSimilarDocuments(db, { embedding: big, limit: -1 })],
    ["a limit of 2^31 (past integer)", (db) => findSimilarKeywords(db, { embedding: big, limit: 2 ** 31 })],
    ["a NaN limit", (db) => searchCourses(db, { userId: a.id, query: "x", limit: NaN })],
    ["an Infinity limit", (db) => searchKeywords(db, { courseId: a.course, query: "x", limit: Infinity })],
    [
      "a limit given as a string",
      (db) => searchCourses(db, { userId: a.id, query: "x", limit: "5" as unknown as number }),
    ],
    ["a NaN threshold", (db) => findSimilarDocuments(db, { embedding: big, threshold: NaN })],
    ["a negative threshold", (db) => findSimilarDocuments(db, { embedding: big, threshold: -0.1 })],
    ["a query of 501 characters", (db) => searchCourses(db, { userId: a.id, query: "x".repeat(501) })],
    [
      "a uuid with a trailing statement",
      (db) => getCourseStats(db, { courseId: `${a.course}'; DELETE FROM courses; --` }),
    ],
    ["no input at all", (db) => getUserLearningStats(db, undefined as unknown as { userId: string })],
  ];

  it.each(cases)("%s is a ValidationError, sends nothing, and the context's transaction goes on", async (_, call) => {
    const { error, after } = await withUserContext(t.db, a.id, async (tx) => {
      const error = await call(tx).catch((e: unknown) => e);
      // A statement sent and refused by the server would have aborted the transaction.
      const after = await queryRows(tx, sql`SELECT count(*)::int AS n FROM courses`);
      return { error, after };
    });
    expect(error).toBeInstanceOf(ValidationError);
    expect(after).toEqual([{ n: 1 }]);
  });
});

/** The answer without the ids the wrapper echoes back (stats rows carry the id they were asked for). */
function stripIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (k, v: unknown) => (/Id$/.test(k) ? undefined : v)));
}
