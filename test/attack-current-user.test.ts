import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chapters,
  closeDb,
  courses,
  createDb,
  DatabaseError,
  toDatabaseError,
  userAnnotations,
  userProgress,
  withAdmin,
  withUserContext,
  type Database,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { LOAD_ORDER } from "../src/seed/load.js";
import { getTableConfig } from "drizzle-orm/pg-core";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser } from "./support/fixtures.js";

// Every policy asks app_current_user_id() (sql/context/current_user_id.sql) who the request is
// for, and since 0004 the owner columns default to it. An outsider's attacks on that one
// expression: whatever its implementation (helper C's 0005 rewrites it for speed), an empty or
// missing setting means no rows, a malformed one is refused, it follows the setting from
// statement to statement and through cached plans, only acting as admin_role sees everyone, and
// a column default never makes a row someone else's.

const TABLES = LOAD_ORDER.map(([, table]) => getTableConfig(table).name);

let t: TestDatabase;
/** The app login on a server (a member of sensa_app only); the owner on PGlite, subject to FORCE too. */
let app: Database;
let a: { id: string; course: string; chapter: string; processed: string };
let b: { id: string; course: string; chapter: string; processed: string };
/** Rows each user owns, per table, counted as a superuser. */
let owned: Record<string, Record<string, number>>;

beforeAll(async () => {
  t = await openTestDatabase();
  app = t.appUrl ? createDb({ url: t.appUrl, pool: { max: 1 } }) : t.db;
  const make = async (role: "user" | "moderator") => {
    const id = (await createUser(t.db, role)).id;
    const tree = await createCourseTree(t.db, id);
    await withUserContext(t.db, id, async (tx) => {
      await tx
        .insert(userAnnotations)
        .values({ processedDocumentId: tree.processed.id, feedbackType: "general", comment: "mine" });
      await tx.insert(userProgress).values({ chapterId: tree.chapters[0]!.id, completionPercentage: 50 });
    });
    return { id, course: tree.course.id, chapter: tree.chapters[0]!.id, processed: tree.processed.id };
  };
  a = await make("user");
  b = await make("user");
  owned = {};
  for (const who of [a, b]) {
    const counts: Record<string, number> = {};
    for (const table of TABLES) {
      const column = table === "users" ? "id" : "user_id";
      const [row] = await t.superuserRows(`SELECT count(*)::int AS n FROM "${table}" WHERE ${column} = '${who.id}'`);
      counts[table] = Number(row!.n);
    }
    owned[who.id] = counts;
  }
}, 600_000); // PGlite migrates from scratch: minutes on a loaded machine
afterAll(async () => {
  if (app && app !== t.db) await closeDb(app);
  await t?.close();
});

const none = () => Object.fromEntries(TABLES.map((table) => [table, 0]));

/** How many rows of each table the current statement sees, one statement per table. */
async function visible(
  run: (text: string) => Promise<Array<Record<string, unknown>>>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = Number((await run(`SELECT count(*)::int AS n FROM "${table}"`))[0]!.n);
  return counts;
}

/** In one transaction on `db`, with app.current_user_id set transaction-locally to `setting`. */
function asSetting<T>(
  db: Database,
  setting: string | null,
  fn: (run: (text: string) => Promise<Array<Record<string, unknown>>>) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    if (setting !== null) await tx.execute(sql`SELECT set_config('app.current_user_id', ${setting}, true)`);
    return fn((text) => queryRows(tx, text));
  });
}

describe("who app_current_user_id() says the request is for, in every table's policies", () => {
  it("no setting at all: no rows in any table", async () => {
    expect(await asSetting(app, null, visible)).toEqual(none());
  });

  it("an empty setting (what a transaction-local setting reads after its transaction): no rows, not an error", async () => {
    expect(await asSetting(app, "", visible)).toEqual(none());
  });

  it.each(["not-a-uuid", "' OR true --", `${"0".repeat(31)}`, " "])(
    "a malformed setting (%j) is refused in every table holding rows (22P02), never read as a user",
    async (setting) => {
      for (const table of TABLES) {
        const result = await asSetting(app, setting, (run) => run(`SELECT count(*)::int AS n FROM "${table}"`)).catch(
          (e: unknown) => e,
        );
        const [stored] = await t.superuserRows(`SELECT count(*)::int AS n FROM "${table}"`);
        // A table holding rows makes every policy ask; an empty one may never ask (PGlite's seq scan), and shows nothing.
        if (Number(stored!.n) === 0 && Array.isArray(result)) expect(result, table).toEqual([{ n: 0 }]);
        else expect((result as DatabaseError).sqlState, table).toBe("22P02");
      }
    },
  );

  it("a user's id: exactly that user's rows in every table", async () => {
    expect(await asSetting(app, a.id, visible)).toEqual(owned[a.id]);
    expect(await asSetting(app, b.id, visible)).toEqual(owned[b.id]);
  });

  it("follows the setting from statement to statement in one transaction (no value kept by a cached plan or function)", async () => {
    const steps: Array<[string, string[]]> = [
      [a.id, [a.id]],
      [b.id, [b.id]],
      ["", []],
      [a.id, [a.id]],
      [b.id, [b.id]],
    ];
    const seen = await app.transaction(async (tx) => {
      const out: string[][] = [];
      for (const [who] of steps) {
        await tx.execute(sql`SELECT set_config('app.current_user_id', ${who}, true)`);
        out.push((await queryRows(tx, sql`SELECT DISTINCT user_id FROM courses`)).map((r) => String(r.user_id)));
      }
      return out;
    });
    expect(seen).toEqual(steps.map(([, expected]) => expected));
  });

  it.skipIf(!onServer())(
    "a named prepared statement run alternately for two users, past the switch to a generic plan, shows each only their rows (server)",
    async () => {
      const client = new pg.Client({ connectionString: t.appUrl });
      await client.connect();
      try {
        for (let i = 0; i < 12; i++) {
          const me = i % 2 ? b : a;
          await client.query("BEGIN");
          await client.query("SELECT set_config('app.current_user_id', $1, true)", [me.id]);
          const { rows } = await client.query({
            name: "attack_courses",
            text: "SELECT user_id FROM courses WHERE title = $1",
            values: ["Cell Biology"],
          });
          const { rows: joined } = await client.query({
            name: "attack_keywords",
            text: "SELECT DISTINCT k.user_id FROM keywords k JOIN chapters c ON c.id = k.chapter_id JOIN courses co ON co.id = c.course_id",
          });
          await client.query("COMMIT");
          expect(
            rows.map((r) => r.user_id),
            `run ${i}`,
          ).toEqual([me.id]);
          expect(
            joined.map((r) => r.user_id),
            `run ${i}`,
          ).toEqual([me.id]);
        }
      } finally {
        await client.end();
      }
    },
  );

  it("the owner, a member of admin_role, sees only the current user's rows until it acts as admin_role; then every row", async () => {
    expect(await asSetting(t.db, a.id, visible)).toEqual(owned[a.id]);
    const all = await t.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL ROLE admin_role`);
      return visible((text) => queryRows(tx, text));
    });
    for (const table of TABLES)
      expect(all[table], table).toBeGreaterThanOrEqual(owned[a.id]![table]! + owned[b.id]![table]!);
  });

  it.skipIf(!onServer())(
    "the app login cannot act as admin_role (server: PGlite's session is a superuser underneath)",
    async () => {
      const error = await app
        .transaction((tx) => tx.execute(sql`SET LOCAL ROLE admin_role`))
        .catch((e: unknown) => toDatabaseError(e));
      expect((error as DatabaseError).sqlState).toBe("42501");
    },
  );

  it.skipIf(!onServer())(
    "a user id set at session level on a pooled connection is gone after RESET ALL and after DISCARD ALL (a pooler's reset) (server)",
    async () => {
      const client = new pg.Client({ connectionString: t.appUrl });
      await client.connect();
      const courseCount = async () => Number((await client.query("SELECT count(*)::int AS n FROM courses")).rows[0].n);
      try {
        await client.query("SELECT set_current_user_id($1)", [a.id]);
        expect(await courseCount()).toBe(1);
        await client.query("RESET ALL");
        expect(await courseCount()).toBe(0);
        await client.query("SELECT set_current_user_id($1)", [b.id]);
        expect(await courseCount()).toBe(1);
        await client.query("DISCARD ALL");
        expect(await courseCount()).toBe(0);
        await client.query("SET app.current_user_id = ''");
        expect(await courseCount()).toBe(0);
      } finally {
        await client.end();
      }
    },
  );

  it("a moderator reads everyone's user_annotations and nothing else of others", async () => {
    const moderator = (await createUser(t.db, "moderator")).id;
    const seen = await asSetting(app, moderator, visible);
    const [row] = await t.superuserRows("SELECT count(*)::int AS n FROM user_annotations");
    expect(seen).toEqual({ ...none(), users: 1, user_annotations: Number(row!.n) });
  });
});

describe("an owner column defaulting to app_current_user_id() (migration 0004)", () => {
  it("a row inserted without its owner belongs to the current user", async () => {
    const [course] = await withUserContext(app, a.id, (tx) =>
      tx.insert(courses).values({ title: "Defaulted" }).returning(),
    );
    expect(course!.userId).toBe(a.id);
  });

  it("naming another user as the owner is refused by the policy, and nothing is written", async () => {
    const error = await withUserContext(app, a.id, (tx) =>
      tx.insert(courses).values({ title: "Planted", userId: b.id }),
    ).catch((e: unknown) => e);
    expect((error as DatabaseError).code).toBe("RLS_VIOLATION");
    const [row] = await t.superuserRows("SELECT count(*)::int AS n FROM courses WHERE title = 'Planted'");
    expect(row).toEqual({ n: 0 });
  });

  it("a child row naming another owner under the user's own parent never becomes that owner's", async () => {
    const result = await withUserContext(app, a.id, (tx) =>
      tx
        .insert(chapters)
        .values({ processedDocumentId: a.processed, chapterNumber: 99, title: "Planted chapter", userId: b.id })
        .returning(),
    ).catch((e: unknown) => e);
    const [row] = await t.superuserRows(
      "SELECT count(*)::int AS n FROM chapters WHERE title = 'Planted chapter' AND user_id <> '" + a.id + "'",
    );
    expect(row).toEqual({ n: 0 });
    if (Array.isArray(result)) expect(result[0]!.userId).toBe(a.id);
  });

  it("a child row under another user's parent is refused, whatever owner it names or leaves to the default", async () => {
    for (const userId of [undefined, a.id, b.id]) {
      const error = await withUserContext(app, a.id, (tx) =>
        tx.insert(chapters).values({
          processedDocumentId: b.processed,
          chapterNumber: 98,
          title: "Planted under b",
          ...(userId ? { userId } : {}),
        }),
      ).catch((e: unknown) => e);
      expect(error, String(userId)).toBeInstanceOf(DatabaseError);
    }
    const [row] = await t.superuserRows("SELECT count(*)::int AS n FROM chapters WHERE title = 'Planted under b'");
    expect(row).toEqual({ n: 0 });
  });

  it("outside any context, or as admin_role, the default is no owner: the insert fails and writes nothing", async () => {
    const outside = await app
      .insert(courses)
      .values({ title: "Ownerless" })
      .catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(Error);
    const admin = await withAdmin(t.db, (tx) => tx.insert(courses).values({ title: "Ownerless" })).catch(
      (e: unknown) => e,
    );
    expect((admin as DatabaseError).code).toBe("NOT_NULL_VIOLATION");
    const [row] = await t.superuserRows("SELECT count(*)::int AS n FROM courses WHERE title = 'Ownerless'");
    expect(row).toEqual({ n: 0 });
  });

  it("with a malformed setting the default is refused, not guessed", async () => {
    const error = await app
      .transaction(async (tx) => {
        await tx.execute(sql`SELECT set_config('app.current_user_id', 'not-a-uuid', true)`);
        await tx.insert(courses).values({ title: "Malformed" });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const [row] = await t.superuserRows("SELECT count(*)::int AS n FROM courses WHERE title = 'Malformed'");
    expect(row).toEqual({ n: 0 });
  });

  it("every owner column's default is app_current_user_id() and nothing else", async () => {
    const rows = await t.superuserRows(
      `SELECT c.relname AS table, pg_get_expr(d.adbin, d.adrelid) AS expr FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
       WHERE a.attname = 'user_id' AND c.relnamespace = 'public'::regnamespace ORDER BY 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const r of rows) expect(r.expr, String(r.table)).toBe("app_current_user_id()");
  });
});
