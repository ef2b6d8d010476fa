import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, courses, createDb, migrate, rollback, withUserContext, type Database } from "../src/index.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser } from "./support/fixtures.js";

// Migration 0004 (and whatever follows it) undone down to 0003 and applied again by the
// non-superuser owner, each step in a session of its own (a new pool, as a deploy's migration task
// would): the database must come back with every boundary it had, FORCE, policies, owner defaults,
// and users' rows still theirs.

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
}, 600_000);
afterAll(() => t?.close());

/** A fresh pool as the owner for one step (server); the embedded database itself. */
async function fresh<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (!t.url) return fn(t.db);
  const db = createDb({ url: t.url, pool: { max: 2 } });
  try {
    return await fn(db);
  } finally {
    await closeDb(db);
  }
}

const boundary = async () =>
  t.superuserRows(`SELECT
    (SELECT count(*)::int FROM pg_policies WHERE schemaname = 'public') AS policies,
    (SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity) AS forced,
    (SELECT string_agg(DISTINCT pg_get_expr(d.adbin, d.adrelid), ' | ') FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE a.attname = 'user_id') AS defaults,
    (SELECT string_agg(proname || ' ' || coalesce(array_to_string(proconfig, ','), 'no SET') || ' ' || md5(prosrc), ', ' ORDER BY proname) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'app\\_%') AS context_functions`);

describe.skipIf(!onServer())(
  "rolling 0004 and later back to 0003, then migrating again, as the non-superuser owner in fresh sessions (server: PGlite's owner runs inside a superuser session)",
  () => {
    it("brings back FORCE, the 51 policies, the owner defaults and the context functions, with every user's rows still only theirs", async () => {
      const a = (await createUser(t.db)).id;
      const b = (await createUser(t.db)).id;
      await createCourseTree(t.db, a, { title: "A's" });
      await createCourseTree(t.db, b, { title: "B's" });
      const before = await boundary();
      expect(before[0]!.policies).toBe(51);

      const undone = await fresh((db) => rollback(db, { to: "0003_sql_objects" }));
      expect(undone.steps.map((s) => s.migration)).toContain("0004_drizzle_kit_safe");
      const at3 = await boundary();
      expect(at3[0]!.forced).toBe(before[0]!.forced);
      expect(at3[0]!.policies).toBe(51);
      // between the two, a user's view is as strict as ever
      expect((await withUserContext(t.db, a, (tx) => tx.select().from(courses))).map((c) => c.title)).toEqual(["A's"]);

      const again = await fresh((db) => migrate(db));
      expect(again.applied).toContain("0004_drizzle_kit_safe");
      expect(await boundary()).toEqual(before);
      expect(before[0]!.defaults).toBe("app_current_user_id()");
      // As 0007 left them: no SET clause (their bodies name everything schema-qualified instead).
      expect(before[0]!.context_functions).toMatch(/^app_current_user_id no SET \w+, app_is_admin no SET \w+$/);

      const app = createDb({ url: t.appUrl!, pool: { max: 1 } });
      try {
        expect((await withUserContext(app, a, (tx) => tx.select().from(courses))).map((c) => c.title)).toEqual(["A's"]);
        expect((await withUserContext(app, b, (tx) => tx.select().from(courses))).map((c) => c.title)).toEqual(["B's"]);
        const [mine] = await withUserContext(app, a, (tx) => tx.insert(courses).values({ title: "after" }).returning());
        expect(mine!.userId).toBe(a);
        expect(
          await app
            .execute(sql`SELECT count(*)::int AS n FROM courses`)
            .then((r) => (r as unknown as { rows: unknown[] }).rows),
        ).toEqual([{ n: 0 }]);
      } finally {
        await closeDb(app);
      }
    });
  },
);
