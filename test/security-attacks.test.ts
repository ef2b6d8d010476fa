import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  closeDb,
  ConnectionLostError,
  ensureAppLogin,
  ContextClosedError,
  createDb,
  findOrCreateUser,
  migrate,
  PermissionDeniedError,
  TransactionControlError,
  users,
  withAdmin,
  withUserContext,
  type Database,
  type Transaction,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser, twoUsersWithCourses } from "./support/fixtures.js";
import { createOwnedDatabase, dropDatabase, RUN_PREFIX, TEMPLATE } from "./support/server.js";

// Issue 9, attacked again after the fix, from the app's side: SQL an app service could send
// through `tx` inside a context, on the app login (server) or the embedded database (PGlite).
// On the server every pool here has ONE connection, so the next borrower is the same backend.

let t: TestDatabase;
type Person = Awaited<ReturnType<typeof twoUsersWithCourses>>["a"];
let a: Person;
let b: Person;

beforeAll(async () => {
  t = await openTestDatabase();
  ({ a, b } = await twoUsersWithCourses(t.db));
});
afterAll(() => t?.close());

/** As an app service connects: the app login, pool of one (server); the embedded database itself. */
async function asApp<T>(fn: (db: Database) => Promise<T>, pool: Record<string, unknown> = {}): Promise<T> {
  if (!t.appUrl) return fn(t.db);
  const db = createDb({ url: t.appUrl, pool: { max: 1, ...pool } });
  try {
    return await fn(db);
  } finally {
    await closeDb(db);
  }
}

const rows = (db: Database | Transaction, query: string) => queryRows(db, sql.raw(query));
const titleOf = async (course: string) =>
  (await withAdmin(t.db, (tx) => rows(tx, `SELECT title FROM courses WHERE id = '${course}'`)))[0]?.title;

describe("fn ending the context's transaction itself (COMMIT or ROLLBACK sent through tx)", () => {
  it("leaves no platform user or setting for the next borrower, even when fn then fails", async () => {
    await asApp(async (db) => {
      await expect(
        withUserContext(db, a.id, async (tx) => {
          await rows(tx, "COMMIT").catch(() => undefined); // refused; fn carries on regardless
          await rows(tx, `SELECT set_config('app.current_user_id', '${a.id}', false)`);
          throw new Error("the request failed");
        }),
      ).rejects.toThrow("the request failed");
      // The next request on this connection, a plain query (no context): nobody's rows.
      expect(await rows(db, "SELECT title FROM courses")).toEqual([]);
      const [after] = await rows(db, "SELECT current_setting('app.current_user_id', true) AS uid");
      expect(after!.uid ?? "").toBe("");
    });
  });

  it.each([
    "COMMIT",
    "commit and chain",
    "END",
    "ABORT",
    "ROLLBACK",
    "rollback work",
    "PREPARE TRANSACTION 'x'",
    "/* hidden */ COMMIT",
    "-- note\nEND WORK",
  ])("refuses %j from fn with TransactionControlError, before it reaches the server", async (statement) => {
    const attempt = withUserContext(t.db, a.id, (tx) => rows(tx, statement));
    await expect(attempt).rejects.toBeInstanceOf(TransactionControlError);
  });

  it("refuses a COMMIT hidden after another statement in one query: one statement per query", async () => {
    const attempt = withUserContext(t.db, a.id, async (tx) => {
      await rows(tx, "UPDATE courses SET title = 'hidden commit'; COMMIT");
    });
    await expect(attempt).rejects.toThrow(/cannot insert multiple commands into a prepared statement/);
    expect(await titleOf(a.course)).toBe("Course of a");
  });

  it("still lets fn use savepoints: ROLLBACK TO and RELEASE pass", async () => {
    const titles = await withUserContext(t.db, a.id, async (tx) => {
      await rows(tx, "SAVEPOINT s1");
      await rows(tx, "UPDATE courses SET title = 'undone'");
      await rows(tx, "ROLLBACK TO SAVEPOINT s1");
      await rows(tx, "RELEASE SAVEPOINT s1");
      return rows(tx, "SELECT title FROM courses");
    });
    expect(titles).toEqual([{ title: "Course of a" }]);
  });

  it("cannot commit part of a context that fails: nothing fn wrote before its COMMIT survives", async () => {
    await asApp(async (db) => {
      await expect(
        withUserContext(db, a.id, async (tx) => {
          await rows(tx, "UPDATE courses SET title = 'half a request'");
          await rows(tx, "COMMIT").catch(() => undefined);
          throw new Error("the request failed");
        }),
      ).rejects.toThrow("the request failed");
    });
    const title = await titleOf(a.course);
    await withAdmin(t.db, (tx) => rows(tx, `UPDATE courses SET title = 'Course of a' WHERE id = '${a.course}'`));
    expect(title).toBe("Course of a");
  });
});

describe("escaping the context's role from inside fn", () => {
  it.skipIf(!onServer())(
    "SET SESSION AUTHORIZATION, SET ROLE admin_role and set_config('role', …, false) are refused on the app login (server)",
    async () => {
      await asApp(async (db) => {
        for (const attempt of [
          "SET SESSION AUTHORIZATION sensa_test_owner",
          "SET ROLE admin_role",
          "SELECT set_config('role', 'admin_role', false)",
          "SELECT set_config('role', 'sensa_test_owner', false)",
        ]) {
          await expect(
            withUserContext(db, a.id, (tx) => rows(tx, attempt)),
            attempt,
          ).rejects.toBeInstanceOf(PermissionDeniedError);
        }
      });
    },
  );

  it.skipIf(!onServer())(
    "RESET ROLE inside fn on the app login still shows only the context user's rows, and the next borrower is clean (server)",
    async () => {
      await asApp(async (db) => {
        const seen = await withUserContext(db, a.id, async (tx) => {
          await rows(tx, "RESET ROLE");
          await rows(tx, "SET SESSION ROLE NONE");
          return rows(tx, "SELECT title FROM courses ORDER BY title");
        });
        expect(seen.map((r) => r.title)).toEqual(["Course of a"]);
        const [after] = await rows(db, "SELECT current_user AS who, current_setting('role') AS role");
        expect(after).toEqual({ who: "sensa_test_app", role: "none" });
      });
    },
  );

  it.skipIf(!onServer())(
    "withUserContext's role option cannot make the app login admin_role or the owner (server)",
    async () => {
      await asApp(async (db) => {
        for (const role of ["admin_role", "sensa_test_owner", "pg_read_all_data"]) {
          await expect(
            withUserContext(db, a.id, (tx) => rows(tx, "SELECT id FROM courses"), { role }),
            role,
          ).rejects.toBeInstanceOf(PermissionDeniedError);
        }
        await expect(withAdmin(db, (tx) => rows(tx, "SELECT id FROM courses"))).rejects.toBeInstanceOf(
          PermissionDeniedError,
        );
      });
    },
  );
});

describe("a tx kept past its context", () => {
  it("a savepoint opened on it after the context ended never reaches a connection", async () => {
    await asApp(async (db) => {
      let leaked: Transaction | undefined;
      let inner: Transaction | undefined;
      await withUserContext(db, a.id, async (tx) => {
        leaked = tx;
        await tx.transaction(async (sp) => {
          inner = sp;
        });
      });
      const second = withUserContext(db, b.id, async (tx) => {
        await expect(
          leaked!.transaction((sp) => sp.execute(sql`UPDATE courses SET title = 'by a stranger'`)),
        ).rejects.toBeInstanceOf(ContextClosedError);
        await expect(inner!.execute(sql`UPDATE courses SET title = 'by a stranger'`)).rejects.toBeInstanceOf(
          ContextClosedError,
        );
        return rows(tx, "SELECT title FROM courses");
      });
      expect((await second).map((r) => r.title)).toEqual(["Course of b"]);
    });
    expect(await titleOf(b.course)).toBe("Course of b");
  });

  it("a cursor declared in the context cannot be fetched from the next request's transaction", async () => {
    await asApp(async (db) => {
      let leaked: Transaction | undefined;
      await withUserContext(db, a.id, async (tx) => {
        leaked = tx;
        await rows(tx, "DECLARE mine CURSOR FOR SELECT title FROM courses");
      });
      await withUserContext(db, b.id, async (tx) => {
        await rows(tx, "DECLARE mine CURSOR FOR SELECT title FROM courses");
        await expect(leaked!.execute(sql`FETCH ALL FROM mine`)).rejects.toBeInstanceOf(ContextClosedError);
      });
    });
  });
});

describe.skipIf(!onServer())("a backend killed while fn awaits (server)", () => {
  it("fails the context with ConnectionLostError, commits nothing, and the next borrower gets a new clean connection", async () => {
    await asApp(async (db) => {
      let pid: unknown;
      const u = withUserContext(db, a.id, async (tx) => {
        pid = (await rows(tx, "SELECT pg_backend_pid() AS pid"))[0]!.pid;
        await rows(tx, "UPDATE courses SET title = 'written before the kill'");
        await sleep(300);
        return rows(tx, "SELECT title FROM courses");
      });
      await sleep(100);
      await t.superuserRows(`SELECT pg_terminate_backend(${Number(pid)})`);
      await expect(u).rejects.toBeInstanceOf(ConnectionLostError);
      const [next] = await rows(
        db,
        "SELECT pg_backend_pid() AS pid, current_setting('app.current_user_id', true) AS uid",
      );
      expect(next!.pid).not.toBe(pid);
      expect(next!.uid ?? "").toBe("");
      expect(await withUserContext(db, b.id, (tx) => rows(tx, "SELECT title FROM courses"))).toEqual([
        { title: "Course of b" },
      ]);
    });
    expect(await titleOf(a.course)).toBe("Course of a");
  });
});

describe.skipIf(!onServer())("a context whose fn never settles (server)", () => {
  it("does not keep the pool's only connection once the server ends its idle transaction", async () => {
    await asApp(
      async (db) => {
        let pid: unknown;
        void withUserContext(db, a.id, async (tx) => {
          pid = (await rows(tx, "SELECT pg_backend_pid() AS pid"))[0]!.pid;
          await rows(tx, "SET LOCAL idle_in_transaction_session_timeout = '300ms'");
          await rows(tx, "UPDATE courses SET title = 'never committed'");
          await new Promise(() => undefined); // a request that hangs for ever
        });
        await sleep(1_000);
        const next = await withUserContext(db, b.id, (tx) =>
          rows(tx, "SELECT pg_backend_pid() AS pid, title FROM courses"),
        );
        expect(next).toHaveLength(1);
        expect(next[0]!.pid).not.toBe(pid);
        expect(next[0]!.title).toBe("Course of b");
      },
      { connectionTimeoutMillis: 5_000 },
    );
    expect(await titleOf(a.course)).toBe("Course of a");
  });
});

describe.skipIf(!onServer())("a copy of a platform database on the same cluster (server)", () => {
  // Database privileges do not travel with CREATE DATABASE … TEMPLATE or pg_dump: a copy is open
  // to the cluster's logins until `sensa-db migrate` runs on it (SECURITY.md), which re-applies them.
  it("is closed to another database's app login once sensa-db migrate has run on it (CREATE DATABASE … TEMPLATE, or a restored dump)", async () => {
    const adminUrl = inject("testServer")!.adminUrl;
    const copy = `${RUN_PREFIX}attack_copy_${randomBytes(4).toString("hex")}`;
    const login = `sensa_test_attack_login_${randomBytes(4).toString("hex")}`;
    const password = "correct-horse-battery-staple";
    const ownerUrl = await createOwnedDatabase(adminUrl, copy, TEMPLATE); // what a scratch copy or pg_restore target is
    const owner = createDb({ url: ownerUrl });
    try {
      await migrate(owner); // nothing pending: what the README tells an operator to run after a copy or restore
      const victim = await createUser(owner);
      await createCourseTree(owner, victim.id, { title: "Secret course in the copy" });
      await ensureAppLogin(t.db, { user: login, password }); // made for THIS test's database only
      const url = new URL(ownerUrl);
      url.username = login;
      url.password = password;
      const stranger = createDb({ url: url.toString(), pool: { max: 1 } });
      try {
        const read = withUserContext(stranger, victim.id, (tx) => rows(tx, "SELECT title FROM courses"));
        await expect(read).rejects.toThrow(/permission denied for database/);
      } finally {
        await closeDb(stranger);
      }
    } finally {
      await closeDb(owner);
      await dropDatabase(adminUrl, copy);
      await t.superuserRows(`DROP OWNED BY ${login}; DROP ROLE ${login}`);
    }
  });
});

describe("the users table from a context", () => {
  it("a user cannot give themselves a role: not by INSERT, by UPDATE through Drizzle, or by an upsert", async () => {
    await asApp(async (db) => {
      const newcomer = crypto.randomUUID();
      await expect(
        withUserContext(db, newcomer, (tx) =>
          tx.insert(users).values({
            id: newcomer,
            cognitoSub: `sub-${newcomer}`,
            email: `${newcomer.slice(0, 8)}@example.org`,
            role: "admin",
          }),
        ),
      ).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(
        withUserContext(db, a.id, (tx) => tx.update(users).set({ role: "moderator" })),
      ).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(
        withUserContext(db, a.id, (tx) =>
          tx
            .insert(users)
            .values({ id: a.id, cognitoSub: a.sub, email: "x@example.org" })
            .onConflictDoUpdate({ target: users.id, set: { role: "admin" } }),
        ),
      ).rejects.toBeInstanceOf(PermissionDeniedError);
    });
    const [row] = await t.superuserRows(`SELECT role FROM users WHERE id = '${a.id}'`);
    expect(row!.role).toBe("user");
  });

  it("find_or_create_user creates only plain users and never rewrites an existing user's row", async () => {
    await asApp(async (db) => {
      const sub = `sensa_test_attack_${randomBytes(4).toString("hex")}`;
      const created = await findOrCreateUser(db, { cognitoSub: sub, email: `${sub}@example.org` });
      expect(created.role).toBe("user");
      // Someone else's sub with a new email and name returns their row unchanged (sign-in, not sign-up).
      const again = await findOrCreateUser(db, {
        cognitoSub: b.sub,
        email: "attacker@example.org",
        displayName: "Attacker",
      });
      expect(again.id).toBe(b.id);
      const [row] = await t.superuserRows(`SELECT email, display_name FROM users WHERE id = '${b.id}'`);
      expect(row!.email).not.toBe("attacker@example.org");
      expect(row!.display_name).not.toBe("Attacker");
    });
  });
});

describe("SECURITY DEFINER paths", () => {
  it("no function the application role may call runs as a role that may create temporary objects", async () => {
    const definers = await rows(
      t.db,
      `SELECT p.oid::regprocedure::text AS name, p.proowner::regrole::text AS owner,
          has_database_privilege(p.proowner, current_database(), 'TEMPORARY') AS owner_may_create_temp
        FROM pg_proc p
        WHERE p.prosecdef AND p.pronamespace = 'public'::regnamespace AND has_function_privilege('sensa_app', p.oid, 'EXECUTE')`,
    );
    expect(definers.map((d) => d.name)).toEqual(["find_or_create_user(text,text,text)"]);
    for (const d of definers)
      expect(d.owner_may_create_temp, `${d.name as string} runs as ${d.owner as string}`).toBe(false);
  });
});

describe("one embedded database, many requests", () => {
  it.skipIf(onServer())("concurrent contexts and plain queries each see only their own rows (PGlite)", async () => {
    const reads = await Promise.all([
      withUserContext(t.db, a.id, async (tx) => {
        await sleep(50);
        return rows(tx, "SELECT title FROM courses");
      }),
      rows(t.db, "SELECT title FROM courses"),
      withUserContext(t.db, b.id, (tx) => rows(tx, "SELECT title FROM courses")),
    ]);
    expect(reads.map((r) => r.map((x) => x.title))).toEqual([["Course of a"], [], ["Course of b"]]);
  });
});
