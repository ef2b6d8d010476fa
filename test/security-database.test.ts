import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  ConfigurationError,
  courseDocuments,
  courses,
  createDb,
  ensureAppLogin,
  ForeignKeyViolationError,
  migrate,
  PermissionDeniedError,
  searchCourses,
  withUserContext,
  type Database,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { onServer, openEmptyDatabase, openTestDatabase, type TestDatabase } from "./support/database.js";
import { twoUsersWithCourses } from "./support/fixtures.js";

// Issue 9, classes 2 to 6 and 8: the boundary between users at the level of the database, its
// roles and its functions, attacked from the app's side. Everything migrates as the
// non-superuser owner. Tests marked (server) need real logins, which PGlite's single superuser
// session cannot show.

let t: TestDatabase;
type Person = Awaited<ReturnType<typeof twoUsersWithCourses>>["a"];
let a: Person;
let b: Person;

beforeAll(async () => {
  t = await openTestDatabase();
  ({ a, b } = await twoUsersWithCourses(t.db, "Biology of"));
});
afterAll(() => t?.close());

const rows = (db: Parameters<typeof queryRows>[0], query: string) => queryRows(db, sql.raw(query));
const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString("hex")}`;
const urlAs = (user: string, password: string, base = t.url!) => {
  const u = new URL(base);
  u.username = user;
  u.password = password;
  return u.toString();
};
async function connectAs(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

describe("temporary objects", () => {
  it("the application role cannot create any, so none can shadow a platform table", async () => {
    for (const ddl of [
      `CREATE TEMP VIEW courses AS SELECT * FROM public.courses`,
      `CREATE TEMP TABLE courses (id uuid, user_id uuid)`,
      `CREATE TEMP TABLE stash (id uuid)`,
    ]) {
      await expect(
        withUserContext(t.db, a.id, (tx) => tx.execute(sql.raw(ddl))),
        ddl,
      ).rejects.toBeInstanceOf(PermissionDeniedError);
    }
  });

  it.skipIf(!onServer())("the app login cannot create any either, outside a context (server)", async () => {
    const app = await connectAs(t.appUrl!);
    try {
      await expect(app.query("CREATE TEMP TABLE courses (id uuid)")).rejects.toThrow(
        /permission denied to create temporary tables/,
      );
    } finally {
      await app.end();
    }
  });

  it("one that a login able to create them left behind is never read by triggers, functions or a context's queries", async () => {
    // The owner may create temporary tables. A fake `courses` that claims B's course for A:
    // the owner-copying trigger reading it would attach A's document under B's course.
    const session: Database = t.url ? createDb({ url: t.url, pool: { max: 1 } }) : t.db;
    try {
      await rows(session, `CREATE TEMP TABLE courses (id uuid, user_id uuid, title text, description text)`);
      await rows(session, `INSERT INTO pg_temp.courses VALUES ('${b.course}', '${a.id}', 'Biology of a (fake)', NULL)`);
      const planted = withUserContext(session, a.id, (tx) =>
        tx
          .insert(courseDocuments)
          .values({ courseId: b.course, fileName: "x.pdf", s3Key: uniqueName("planted") })
          .returning(),
      );
      await expect(planted).rejects.toBeInstanceOf(ForeignKeyViolationError);
      const seen = await withUserContext(session, a.id, (tx) =>
        tx.select({ id: courses.id, title: courses.title }).from(courses),
      );
      expect(seen).toEqual([{ id: a.course, title: "Biology of a" }]);
      const found = await withUserContext(session, a.id, (tx) => searchCourses(tx, { userId: a.id, query: "fake" }));
      expect(found).toEqual([]);
    } finally {
      await rows(session, "DROP TABLE IF EXISTS pg_temp.courses");
      if (session !== t.db) await closeDb(session);
    }
  });
});

describe.skipIf(!onServer())("other databases of the same cluster (server)", () => {
  it("a login that is admin_role elsewhere (as another database's owner is) cannot connect to this one", async () => {
    const stranger = uniqueName("sensa_test_stranger");
    await t.superuserRows(
      `CREATE ROLE ${stranger} LOGIN PASSWORD '${stranger}'; GRANT admin_role, sensa_app TO ${stranger}`,
    );
    try {
      await expect(connectAs(urlAs(stranger, stranger))).rejects.toThrow(/permission denied for database/);
    } finally {
      await t.superuserRows(`DROP ROLE ${stranger}`);
    }
  });

  it("an app login made for one database cannot connect to another that uses this package", async () => {
    const other = await openTestDatabase();
    const user = uniqueName("sensa_test_login");
    const password = "correct-horse-battery-staple";
    try {
      await ensureAppLogin(t.db, { user, password });
      await (await connectAs(urlAs(user, password))).end();
      await expect(connectAs(urlAs(user, password, other.url!))).rejects.toThrow(/permission denied for database/);
    } finally {
      await other.close();
      await t.superuserRows(`DROP OWNED BY ${user}; DROP ROLE ${user}`);
    }
  });
});

describe("sensa-db app-login on an existing role", () => {
  const password = "correct-horse-battery-staple";

  it("refuses one with BYPASSRLS and admin_role membership, naming both, and changes nothing", async () => {
    const risky = uniqueName("sensa_test_risky");
    await t.superuserRows(`CREATE ROLE ${risky} LOGIN BYPASSRLS; GRANT admin_role TO ${risky}`);
    try {
      const refused = ensureAppLogin(t.db, { user: risky, password });
      await expect(refused).rejects.toBeInstanceOf(ConfigurationError);
      await expect(refused).rejects.toThrow(/BYPASSRLS.*member of admin_role/);
      const [member] = await t.superuserRows(`SELECT pg_has_role('${risky}', 'sensa_app', 'MEMBER') AS sensa_app`);
      expect(member!.sensa_app).toBe(false);
    } finally {
      await t.superuserRows(`DROP OWNED BY ${risky}; DROP ROLE ${risky}`);
    }
  });

  it.each([
    ["a superuser", "postgres", /is a superuser/],
    ["the owner itself", "sensa_test_owner", /owns this database/],
    ["sensa_app", "sensa_app", /is a platform role/],
    ["admin_role", "admin_role", /is a platform role/],
  ])("refuses %s", async (_, user, reason) => {
    await expect(ensureAppLogin(t.db, { user, password })).rejects.toThrow(reason);
  });

  it("refuses a role with CREATEROLE, CREATEDB or REPLICATION", async () => {
    const creator = uniqueName("sensa_test_creator");
    await t.superuserRows(`CREATE ROLE ${creator} LOGIN CREATEROLE CREATEDB REPLICATION`);
    try {
      await expect(ensureAppLogin(t.db, { user: creator, password })).rejects.toThrow(
        /has CREATEROLE, has CREATEDB, has REPLICATION/,
      );
    } finally {
      await t.superuserRows(`DROP ROLE ${creator}`);
    }
  });

  it.skipIf(!onServer())("the CLI exits non-zero with one line naming what is wrong (server)", async () => {
    const risky = uniqueName("sensa_test_risky");
    await t.superuserRows(`CREATE ROLE ${risky} LOGIN BYPASSRLS`);
    try {
      const result = await promisify(execFile)("npx", ["tsx", "src/cli/main.ts", "app-login", "--url", t.url!], {
        env: { ...process.env, APP_DB_USER: risky, APP_DB_PASSWORD: password },
      }).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(result.code).not.toBe(0);
      const lines = result.stderr
        .trim()
        .split("\n")
        .filter((l) => !l.startsWith("sensa-db: using"));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/refusing to use existing role .* has BYPASSRLS/);
    } finally {
      await t.superuserRows(`DROP ROLE ${risky}`);
    }
  });

  it.skipIf(!onServer())(
    "with iam, grants rds_iam (RDS's role for IAM tokens) without a password, and refuses where it does not exist (server)",
    async () => {
      const user = uniqueName("sensa_test_iam");
      await expect(ensureAppLogin(t.db, { user, iam: true })).rejects.toThrow(/rds_iam .* only on Amazon RDS/);
      // rds_iam is an ordinary role on RDS; a stand-in here, made by the superuser as RDS makes it.
      await t.superuserRows("DO $$ BEGIN CREATE ROLE rds_iam; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
      try {
        expect(await ensureAppLogin(t.db, { user, iam: true })).toEqual({ user, created: true });
        expect(await ensureAppLogin(t.db, { user, iam: true })).toEqual({ user, created: false }); // rds_iam is no reason to refuse
        const [roles] = await t.superuserRows(
          `SELECT pg_has_role('${user}', 'rds_iam', 'MEMBER') AS iam, pg_has_role('${user}', 'sensa_app', 'MEMBER') AS app, rolpassword IS NULL AS no_password FROM pg_authid WHERE rolname = '${user}'`,
        );
        expect(roles).toEqual({ iam: true, app: true, no_password: true });
      } finally {
        await t.superuserRows(`DROP OWNED BY ${user}; DROP ROLE ${user}; DROP ROLE rds_iam`);
      }
    },
  );

  it.skipIf(!onServer())("gives a new login the timeouts that stop a runaway request (server)", async () => {
    const user = uniqueName("sensa_test_login");
    try {
      await ensureAppLogin(t.db, { user, password });
      const app = await connectAs(urlAs(user, password));
      try {
        const {
          rows: [settings],
        } = await app.query(
          "SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock, current_setting('idle_in_transaction_session_timeout') AS idle",
        );
        expect(settings).toEqual({ statement: "30s", lock: "5s", idle: "1min" });
        await expect(app.query("SET ROLE admin_role")).rejects.toThrow(/permission denied/);
      } finally {
        await app.end();
      }
    } finally {
      await t.superuserRows(`DROP OWNED BY ${user}; DROP ROLE ${user}`);
    }
  });
});

describe("functions", () => {
  it("every platform function pins search_path with pg_temp last (the RLS context functions qualify every name instead) and is not callable by PUBLIC", async () => {
    const functions = await rows(
      t.db,
      `SELECT p.oid::regprocedure::text AS name, coalesce(array_to_string(p.proconfig, ','), '') AS config,
          EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) acl WHERE acl.grantee = 0) AS public_may_execute
        FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        ORDER BY 1`,
    );
    expect(functions.length).toBeGreaterThan(20);
    // test/rls-cost.test.ts calls these two under a search_path that shadows every name they use.
    const qualifiedInstead = ["app_current_user_id()", "app_is_admin()"];
    for (const f of functions) {
      if (qualifiedInstead.includes(f.name as string)) expect(f.config, f.name as string).toBe("");
      else expect(f.config, f.name as string).toContain("search_path=public, pg_temp");
      expect(f.public_may_execute, f.name as string).toBe(false);
    }
  });

  it("the application role cannot call the owner's helpers", async () => {
    for (const call of [
      "SELECT rls_drop_policies('courses')",
      "SELECT rls_remove('courses')",
      "SELECT secure_database()",
    ]) {
      await expect(
        withUserContext(t.db, a.id, (tx) => tx.execute(sql.raw(call))),
        call,
      ).rejects.toBeInstanceOf(PermissionDeniedError);
    }
  });
});

describe.skipIf(!onServer())(
  "the next sql/ bundle as the non-superuser owner, each step in a fresh session (server)",
  () => {
    let empty: TestDatabase;
    beforeAll(async () => {
      empty = await openEmptyDatabase();
    });
    afterAll(() => empty?.close());

    const lastMigration: string = JSON.parse(readFileSync("drizzle/meta/_journal.json", "utf8")).entries.at(-1).tag;
    const fresh = async <T>(fn: (db: Database) => Promise<T>) => {
      const db = createDb({ url: empty.url! });
      try {
        return await fn(db);
      } finally {
        await closeDb(db);
      }
    };
    const cli = (...args: string[]) =>
      promisify(execFile)("npx", ["tsx", "src/cli/main.ts", ...args, "--url", empty.url!]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    it("applies the second bundle in a session that never loaded the extensions' libraries", async () => {
      expect((await fresh((db) => migrate(db, { to: "0002_sql_objects" }))).applied.at(-1)).toBe("0002_sql_objects");
      expect((await fresh((db) => migrate(db, { to: "0003_sql_objects" }))).applied).toEqual(["0003_sql_objects"]);
      expect((await fresh((db) => migrate(db))).applied.at(-1)).toBe(lastMigration);
    });

    it("sensa-db rollback --force then sensa-db migrate succeed, also back to before the first bundle", async () => {
      for (const to of [undefined, "0001_schema"]) {
        const back = await cli("rollback", "--force", ...(to ? ["--to", to] : []));
        expect(back.code, back.stderr).toBe(0);
        const up = await cli("migrate");
        expect(up.code, up.stderr).toBe(0);
        expect(up.stdout).toContain(to ? "0003_sql_objects" : lastMigration);
      }
    }, 180_000); // four CLI processes, each starting tsx
  },
);
