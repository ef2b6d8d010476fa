import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import {
  closeDb,
  ConnectionLostError,
  ContextClosedError,
  courses,
  createDb,
  StatementTimeoutError,
  TransactionAbortedError,
  withAdmin,
  withUserContext,
  type Database,
  type Transaction,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { twoUsersWithCourses } from "./support/fixtures.js";

// Issue 9, classes 1 and 7: what one request leaves behind on a pooled connection must never
// reach the next request. On the server every test here uses a pool of ONE connection, so the
// "next borrower" is certainly the same backend. PGlite has one session, so it is always the same
// connection there too.

let t: TestDatabase;
type Person = Awaited<ReturnType<typeof twoUsersWithCourses>>["a"];
let a: Person;
let b: Person;

beforeAll(async () => {
  t = await openTestDatabase();
  ({ a, b } = await twoUsersWithCourses(t.db));
});
afterAll(() => t?.close());

/** A pool of one connection (server), or the embedded database itself. */
async function withOneConnection<T>(fn: (db: Database) => Promise<T>, pool: Record<string, unknown> = {}): Promise<T> {
  if (!t.url) return fn(t.db);
  const db = createDb({ url: t.url, pool: { max: 1, ...pool } });
  try {
    return await fn(db);
  } finally {
    await closeDb(db);
  }
}

const rows = (db: Database | Transaction, query: string) => queryRows(db, sql.raw(query));
const titleOf = async (course: string) =>
  (await withAdmin(t.db, (tx) => rows(tx, `SELECT title FROM courses WHERE id = '${course}'`)))[0]?.title;

describe("a query issued on tx after its context ended", () => {
  it("is refused with ContextClosedError, also for a query builder made inside and awaited after", async () => {
    await withOneConnection(async (db) => {
      let leaked: Transaction | undefined;
      let builder: PromiseLike<unknown> | undefined;
      await withUserContext(db, a.id, async (tx) => {
        leaked = tx;
        builder = tx.select().from(courses);
      });
      await expect(leaked!.select().from(courses)).rejects.toBeInstanceOf(ContextClosedError);
      await expect(builder!).rejects.toBeInstanceOf(ContextClosedError);
      await expect(leaked!.execute(sql`SELECT 1`)).rejects.toBeInstanceOf(ContextClosedError);
    });
  });

  it("never runs in the next user's transaction: a Promise.all branch still waiting when its sibling failed", async () => {
    await withOneConnection(async (db) => {
      let late: Promise<unknown> | undefined;
      const first = withUserContext(db, a.id, async (tx) => {
        late = (async () => {
          await sleep(100); // still waiting when the other branch has failed and the context ended
          // An attack on whatever the connection runs next: B's rows, if it ran in B's transaction.
          return tx.execute(sql`UPDATE courses SET title = 'rewritten by a stranger' RETURNING id`);
        })();
        await Promise.all([tx.execute(sql`SELECT 1/0`), late]);
      });
      await expect(first).rejects.toThrow(/division by zero/);
      // B's request takes the same connection and is busy in its transaction when the late query fires.
      const second = withUserContext(db, b.id, async (tx) => {
        await sleep(300); // B holds the connection, inside its transaction, when the late query fires
        return rows(tx, "SELECT title FROM courses");
      });
      await expect(late!).rejects.toBeInstanceOf(ContextClosedError);
      expect((await second).map((r) => r.title)).toEqual(["Course of b"]);
    });
    expect(await titleOf(b.course)).toBe("Course of b");
    expect(await titleOf(a.course)).toBe("Course of a");
  });

  it("withAdmin's tx is closed the same way, so admin rights never leak into a later user's request", async () => {
    await withOneConnection(async (db) => {
      let leaked: Transaction | undefined;
      await withAdmin(db, async (tx) => {
        leaked = tx;
      });
      const user = withUserContext(db, a.id, async () => {
        await expect(leaked!.execute(sql`SELECT id FROM courses`)).rejects.toBeInstanceOf(ContextClosedError);
      });
      await user;
    });
  });
});

describe("a context whose COMMIT or ROLLBACK did not complete", () => {
  it.skipIf(!onServer())(
    "destroys its connection: with node-postgres's query_timeout, nothing of user U reaches the next borrower (server)",
    async () => {
      await withOneConnection(
        async (db) => {
          // U writes, then a statement outlives query_timeout: the client gives up on it, but the
          // backend is still running it, so the ROLLBACK behind it times out unsent.
          let backendOfU: unknown;
          const u = withUserContext(db, a.id, async (tx) => {
            backendOfU = (await rows(tx, "SELECT pg_backend_pid() AS pid"))[0]!.pid;
            await tx.execute(sql`UPDATE courses SET title = 'uncommitted write of U'`);
            await tx.execute(sql`SELECT pg_sleep(1.5)`);
          });
          await expect(u).rejects.toBeInstanceOf(ConnectionLostError);
          await sleep(1_500); // U's statement has finished on the backend: a reused connection would now answer, inside U's transaction
          const [plain] = await rows(
            db,
            "SELECT pg_backend_pid() AS pid, current_user AS who, current_setting('app.current_user_id', true) AS uid, now() = statement_timestamp() AS fresh_transaction",
          );
          expect(plain!.pid).not.toBe(backendOfU); // U's connection was destroyed, not reused
          expect(plain).toMatchObject({ who: "sensa_test_owner", fresh_transaction: true });
          expect(plain!.uid ?? "").toBe("");
          await withUserContext(db, b.id, (tx) => rows(tx, "SELECT 1"));
        },
        { query_timeout: 500 },
      );
      expect(await titleOf(a.course)).toBe("Course of a");
    },
  );
});

describe("session state a request leaves behind", () => {
  it("is gone for the next borrower: settings, the platform user, search_path, WITH HOLD cursors, advisory locks", async () => {
    await withOneConnection(async (db) => {
      const [before] = await rows(
        db,
        "SELECT current_user AS who, current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout",
      );
      await withUserContext(db, a.id, async (tx) => {
        await rows(tx, `SELECT set_config('app.current_user_id', '${a.id}', false)`);
        await rows(tx, `SELECT set_current_user_id('${a.id}')`);
        await rows(tx, "SET statement_timeout = '1h'");
        await rows(tx, "SET search_path = pg_temp, public");
        await rows(tx, "SELECT pg_advisory_lock(4242)");
        await rows(tx, "DECLARE leftover CURSOR WITH HOLD FOR SELECT title FROM courses");
      });
      const [after] = await rows(
        db,
        `SELECT current_user AS who, current_setting('app.current_user_id', true) AS uid, current_setting('search_path') AS path,
          current_setting('statement_timeout') AS timeout,
          (SELECT count(*) FROM pg_cursors WHERE name <> '') AS cursors,
          (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks`,
      );
      expect(after).toMatchObject({ who: before!.who, uid: "", path: before!.path, timeout: before!.timeout });
      expect([Number(after!.cursors), Number(after!.advisory_locks)]).toEqual([0, 0]);
      // Without a context the next plain query sees nobody's rows.
      expect(await rows(db, "SELECT id FROM courses")).toEqual([]);
    });
  });

  it("is gone after a context that failed, too (a ROLLBACK undoes settings but not advisory locks)", async () => {
    await withOneConnection(async (db) => {
      await expect(
        withUserContext(db, a.id, async (tx) => {
          await rows(tx, "SELECT pg_advisory_lock(4243)");
          throw new Error("the request failed");
        }),
      ).rejects.toThrow("the request failed");
      const [after] = await rows(
        db,
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
      );
      expect(Number(after!.n)).toBe(0);
    });
  });

  it("setCurrentUserId, a session-level setter that would leak on a pool, is not in the public API", () => {
    expect("setCurrentUserId" in api).toBe(false);
  });
});

describe("a context's own limits", () => {
  it.skipIf(!onServer())(
    "cancels a runaway statement with StatementTimeoutError, and the connection serves the next request (server)",
    async () => {
      await withOneConnection(async (db) => {
        const runaway = withUserContext(db, a.id, (tx) => tx.execute(sql`SELECT pg_sleep(5)`), {
          statementTimeoutMs: 200,
        });
        await expect(runaway).rejects.toBeInstanceOf(StatementTimeoutError);
        const [next] = await withUserContext(db, a.id, (tx) =>
          rows(tx, "SELECT current_setting('statement_timeout') AS timeout"),
        );
        expect(next!.timeout).not.toBe("200ms");
      });
    },
  );

  it("refuses to report success when fn swallowed a failed statement: nothing was committed", async () => {
    const attempt = withUserContext(t.db, a.id, async (tx) => {
      await tx.execute(sql`UPDATE courses SET title = 'lost write'`);
      await tx.execute(sql`SELECT 1/0`).catch(() => undefined);
      return "done";
    });
    await expect(attempt).rejects.toBeInstanceOf(TransactionAbortedError);
    expect(await titleOf(a.course)).toBe("Course of a");
  });
});
