import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  createDb,
  findSimilarDocuments,
  findSimilarKeywords,
  getCourseStats,
  getUserLearningStats,
  getUserProgressSummary,
  searchCourses,
  searchKeywords,
  userAnnotations,
  userProfiles,
  userProgress,
  relationships,
  keywords,
  ValidationError,
  withAdmin,
  withUserContext,
  type Database,
  type Transaction,
} from "../src/index.js";
import { userOwnedTables } from "../src/schema/index.js";
import { queryRows } from "../src/db/query.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";
import { pgErrorOf } from "./support/errors.js";
import { createCourseTree, createUser, embeddingAlong } from "./support/fixtures.js";

// Row-level security, rule by rule, in the style of pgTAP RLS suites: each test acts as one
// user (user A, through withUserContext as the application role) against rows of another
// (user B), and checks one outcome. Everything runs as a non-superuser owner.

let t: TestDatabase;
type Person = Awaited<ReturnType<typeof setUpPerson>>;
let a: Person;
let b: Person;
let moderator: Awaited<ReturnType<typeof createUser>>;

async function setUpPerson(db: Database, axis: number) {
  const user = await createUser(db);
  const tree = await createCourseTree(db, user.id, { title: `Biology of ${user.id}`, embedding: embeddingAlong(axis) });
  const rows = await withAdmin(db, async (tx) => {
    const [other] = await tx.insert(keywords).values({ chapterId: tree.chapters[0]!.id, term: "ATP" }).returning();
    const [relationship] = await tx
      .insert(relationships)
      .values({ sourceKeywordId: tree.keyword.id, targetKeywordId: other!.id, relationshipType: "produces" })
      .returning();
    const [profile] = await tx.insert(userProfiles).values({ userId: user.id }).returning();
    const [progress] = await tx
      .insert(userProgress)
      .values({ userId: user.id, chapterId: tree.chapters[0]!.id, completionPercentage: 50 })
      .returning();
    const [annotation] = await tx
      .insert(userAnnotations)
      .values({
        userId: user.id,
        processedDocumentId: tree.processed.id,
        feedbackType: "concept_map",
        rating: 2,
        comment: "missing edges",
      })
      .returning();
    return {
      other: other!,
      relationship: relationship!,
      profile: profile!,
      progress: progress!,
      annotation: annotation!,
    };
  });
  const ids: Record<string, string> = {
    users: user.id,
    user_profiles: rows.profile.id,
    courses: tree.course.id,
    course_documents: tree.document.id,
    processed_documents: tree.processed.id,
    chapters: tree.chapters[0]!.id,
    keywords: tree.keyword.id,
    relationships: rows.relationship.id,
    user_annotations: rows.annotation.id,
    user_progress: rows.progress.id,
  };
  return { user, tree, ...rows, ids };
}

beforeAll(async () => {
  t = await openTestDatabase();
  a = await setUpPerson(t.db, 0);
  b = await setUpPerson(t.db, 1);
  moderator = await createUser(t.db, "moderator");
});
afterAll(() => t?.close());

const asA = <T>(fn: (tx: Transaction) => Promise<T>) => withUserContext(t.db, a.user.id, fn);
const run = (tx: Transaction, query: string) => queryRows(tx, sql.raw(query));
const fill = (template: string) =>
  template
    .replaceAll("$A_CHAPTER", a.tree.chapters[0]!.id)
    .replaceAll("$B_USER", b.user.id)
    .replaceAll("$B_COURSE", b.tree.course.id)
    .replaceAll("$B_DOCUMENT", b.tree.document.id)
    .replaceAll("$B_PROCESSED", b.tree.processed.id)
    .replaceAll("$B_CHAPTER", b.tree.chapters[0]!.id)
    .replaceAll("$B_KEYWORD2", b.other.id)
    .replaceAll("$B_KEYWORD", b.tree.keyword.id)
    .replaceAll("$A_KEYWORD", a.tree.keyword.id)
    .replaceAll("$NEW", randomUUID());

// Every user-owned table (src/schema/user-owned.ts): a table added there fails below until it has
// an attack of its own.
const TABLES = userOwnedTables.map((o) => getTableConfig(o.table).name);

// For each table: an INSERT that would create a row belonging to B (or hang one off B's data),
// and an UPDATE that would move one of A's rows to B.
const attacks: Record<string, { insert: string; move: string }> = {
  users: {
    insert: "INSERT INTO users (id, cognito_sub, email) VALUES ('$NEW', 'sub-$NEW', '$NEW@x.io')",
    move: "UPDATE users SET email = 'stolen@x.io' WHERE id = '$B_USER' RETURNING id",
  },
  user_profiles: {
    insert: "INSERT INTO user_profiles (user_id) VALUES ('$B_USER')",
    move: "UPDATE user_profiles SET user_id = '$B_USER'",
  },
  courses: {
    insert: "INSERT INTO courses (user_id, title) VALUES ('$B_USER', 'planted')",
    move: "UPDATE courses SET user_id = '$B_USER'",
  },
  course_documents: {
    insert: "INSERT INTO course_documents (course_id, file_name, s3_key) VALUES ('$B_COURSE', 'x.pdf', '$NEW')",
    move: "UPDATE course_documents SET course_id = '$B_COURSE'",
  },
  processed_documents: {
    insert: "INSERT INTO processed_documents (document_id, title) VALUES ('$B_DOCUMENT', 'planted')",
    move: "UPDATE processed_documents SET document_id = '$B_DOCUMENT'",
  },
  chapters: {
    insert:
      "INSERT INTO chapters (processed_document_id, chapter_number, title) VALUES ('$B_PROCESSED', 99, 'planted')",
    move: "UPDATE chapters SET processed_document_id = '$B_PROCESSED'",
  },
  keywords: {
    insert: "INSERT INTO keywords (chapter_id, term) VALUES ('$B_CHAPTER', 'planted')",
    move: "UPDATE keywords SET chapter_id = '$B_CHAPTER'",
  },
  relationships: {
    insert:
      "INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) VALUES ('$B_KEYWORD', '$B_KEYWORD2', 'planted')",
    move: "UPDATE relationships SET target_keyword_id = '$B_KEYWORD'",
  },
  user_annotations: {
    insert: "INSERT INTO user_annotations (user_id, feedback_type, comment) VALUES ('$B_USER', 'general', 'forged')",
    move: "UPDATE user_annotations SET user_id = '$B_USER'",
  },
  user_progress: {
    insert: "INSERT INTO user_progress (user_id, chapter_id) VALUES ('$B_USER', '$A_CHAPTER')",
    move: "UPDATE user_progress SET user_id = '$B_USER'",
  },
};

/** The table's attack; a user-owned table without one fails every test of its describe block. */
function attackOn(table: string) {
  const attack = attacks[table];
  if (!attack) throw new Error(`no attack written for ${table}: add one to attacks in test/rls.test.ts`);
  return attack;
}

describe("every user-data table", () => {
  it("has row-level security enabled and forced, with a policy for each command", async () => {
    const found = await t.superuserRows(`
      SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
        array(SELECT DISTINCT p.polcmd::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1) AS commands
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname <> 'migrations_log'
      ORDER BY c.relname`);
    expect(found.map((r) => r.relname)).toEqual([...TABLES].sort());
    for (const row of found) {
      expect(row, String(row.relname)).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
      // r, a, w, d: SELECT, INSERT, UPDATE, DELETE; * is the admin_role policy for all.
      expect(row.commands, String(row.relname)).toEqual(expect.arrayContaining(["*", "a", "d", "r", "w"]));
    }
  });

  it("reads each policy's user once per statement, not once per row", async () => {
    const policies = await t.superuserRows(
      "SELECT tablename, policyname, coalesce(qual, with_check) AS expr FROM pg_policies WHERE schemaname = 'public'",
    );
    for (const p of policies) expect(String(p.expr), `${p.tablename}.${p.policyname}`).toMatch(/\(\s*SELECT /);
  });
});

describe.each(TABLES)("%s", (table) => {
  it("a user sees their own rows and not another user's", async () => {
    const ids = (await asA((tx) => run(tx, `SELECT id FROM ${table}`))).map((r) => r.id);
    expect(ids).toContain(a.ids[table]);
    expect(ids).not.toContain(b.ids[table]);
  });

  it("a user cannot create a row for another user or under another user's data", async () => {
    const error = await pgErrorOf(asA((tx) => run(tx, fill(attackOn(table).insert))));
    expect(error.message).toMatch(/row-level security|not visible to the current user|permission denied/);
  });

  it("a user cannot update another user's row", async () => {
    const updated = await asA((tx) =>
      run(tx, `UPDATE ${table} SET updated_at = now() WHERE id = '${b.ids[table]}' RETURNING id`),
    );
    expect(updated).toEqual([]);
  });

  it("a user cannot move their row to another user", async () => {
    const attempt = asA((tx) =>
      run(
        tx,
        fill(attackOn(table).move) +
          ` ${attackOn(table).move.includes("RETURNING") ? "" : `WHERE id = '${a.ids[table]}' RETURNING id`}`,
      ),
    );
    const outcome = await attempt.then(
      (rows) => ({ rows }),
      (error: unknown) => ({ error }),
    );
    if ("rows" in outcome) expect(outcome.rows).toEqual([]);
    else expect(String(outcome.error)).toMatch(/row-level security|not visible|permission denied|cannot change owner/);
    const still = await withAdmin(t.db, (tx) => run(tx, `SELECT id FROM ${table} WHERE id = '${b.ids[table]}'`));
    expect(still).toHaveLength(1);
  });

  it("a user cannot delete another user's row", async () => {
    const deleted = await asA((tx) => run(tx, `DELETE FROM ${table} WHERE id = '${b.ids[table]}' RETURNING id`));
    expect(deleted).toEqual([]);
    expect(await withAdmin(t.db, (tx) => run(tx, `SELECT id FROM ${table} WHERE id = '${b.ids[table]}'`))).toHaveLength(
      1,
    );
  });

  it("admin_role sees and updates every user's rows", async () => {
    const ids = (await withAdmin(t.db, (tx) => run(tx, `SELECT id FROM ${table}`))).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([a.ids[table], b.ids[table]]));
    const updated = await withAdmin(t.db, (tx) =>
      run(tx, `UPDATE ${table} SET updated_at = now() WHERE id = '${b.ids[table]}' RETURNING id`),
    );
    expect(updated).toHaveLength(1);
  });

  it("no user context means no rows, not an error", async () => {
    expect(await run(t.db as unknown as Transaction, `SELECT id FROM ${table}`)).toEqual([]);
  });
});

describe("through the functions", () => {
  it("find_similar_documents never returns another user's document, even its exact embedding", async () => {
    const found = await asA((tx) => findSimilarDocuments(tx, { embedding: embeddingAlong(1), threshold: 0 }));
    expect(found.map((d) => d.processedDocumentId)).toEqual([a.tree.processed.id]);
  });

  it("find_similar_keywords finds nothing in another user's chapter", async () => {
    expect(
      await asA((tx) => findSimilarKeywords(tx, { embedding: embeddingAlong(10), chapterId: b.tree.chapters[0]!.id })),
    ).toEqual([]);
  });

  it("search_courses and search_keywords find nothing of another user's, even by their ids", async () => {
    expect(await asA((tx) => searchCourses(tx, { userId: b.user.id, query: "biology" }))).toEqual([]);
    expect(await asA((tx) => searchKeywords(tx, { courseId: b.tree.course.id, query: "mitochondria" }))).toEqual([]);
  });

  it("the statistics functions return nothing about another user", async () => {
    expect(await asA((tx) => getCourseStats(tx, { courseId: b.tree.course.id }))).toBeNull();
    expect(await asA((tx) => getUserProgressSummary(tx, { userId: b.user.id, courseId: b.tree.course.id }))).toBeNull();
    expect(await asA((tx) => getUserLearningStats(tx, { userId: b.user.id }))).toBeNull();
  });

  it("admin_role gets answers about any user", async () => {
    expect(await withAdmin(t.db, (tx) => getUserLearningStats(tx, { userId: b.user.id }))).toMatchObject({
      courseCount: 1,
    });
  });
});

describe("moderators", () => {
  const asModerator = <T>(fn: (tx: Transaction) => Promise<T>) => withUserContext(t.db, moderator.id, fn);

  it("read every user's feedback", async () => {
    const ids = (await asModerator((tx) => run(tx, "SELECT id FROM user_annotations"))).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([a.annotation.id, b.annotation.id]));
  });

  it("cannot change or delete another user's feedback", async () => {
    expect(
      await asModerator((tx) =>
        run(tx, `UPDATE user_annotations SET comment = 'edited' WHERE id = '${a.annotation.id}' RETURNING id`),
      ),
    ).toEqual([]);
    expect(
      await asModerator((tx) => run(tx, `DELETE FROM user_annotations WHERE id = '${a.annotation.id}' RETURNING id`)),
    ).toEqual([]);
  });

  it("see nothing else of other users", async () => {
    expect(await asModerator((tx) => run(tx, "SELECT id FROM courses"))).toEqual([]);
    expect(await asModerator((tx) => run(tx, "SELECT id FROM chapters"))).toEqual([]);
  });
});

describe("the application role", () => {
  const denied = /permission denied|must be owner|row-level security|query would be affected/;
  // On a server, connect as an app service does: a login that is a member of sensa_app only.
  let appDb: Database;
  beforeAll(() => {
    appDb = t.appUrl ? createDb({ url: t.appUrl }) : t.db;
  });
  afterAll(() => (appDb !== t.db ? closeDb(appDb) : undefined));
  const asA = <T>(fn: (tx: Transaction) => Promise<T>) => withUserContext(appDb, a.user.id, fn);

  it("cannot disable row-level security", async () => {
    expect((await pgErrorOf(asA((tx) => run(tx, "ALTER TABLE courses DISABLE ROW LEVEL SECURITY")))).message).toMatch(
      denied,
    );
    expect((await pgErrorOf(asA((tx) => run(tx, "ALTER TABLE courses NO FORCE ROW LEVEL SECURITY")))).message).toMatch(
      denied,
    );
  });

  it("cannot switch row security off for a query", async () => {
    const error = await pgErrorOf(
      asA(async (tx) => {
        await run(tx, "SET LOCAL row_security = off");
        return run(tx, "SELECT id FROM courses");
      }),
    );
    expect(error.message).toMatch(denied);
  });

  // SET ROLE is checked against the login (session) user; PGlite's is always a superuser.
  it.skipIf(!onServer())(
    "cannot change role to admin_role (server only: the embedded database has one superuser login)",
    async () => {
      expect((await pgErrorOf(asA((tx) => run(tx, "SET LOCAL ROLE admin_role")))).message).toMatch(/permission denied/);
    },
  );

  it("cannot make its user a moderator or admin", async () => {
    const error = await pgErrorOf(asA((tx) => run(tx, `UPDATE users SET role = 'admin' WHERE id = '${a.user.id}'`)));
    expect(error.message).toMatch(/permission denied/);
  });

  it("cannot set another user's id through the wrappers: a non-UUID is refused before any SQL", async () => {
    for (const forged of ["", "not-a-uuid", `${b.user.id}'; SELECT set_config('app.current_user_id','x',false); --`]) {
      await expect(withUserContext(t.db, forged, async () => "ran")).rejects.toBeInstanceOf(ValidationError);
    }
  });
});

describe("the RLS context on a pooled connection", () => {
  it("is gone once withUserContext ends: the next query on the same connection sees no rows", async () => {
    const pooled = t.url ? createDb({ url: t.url, pool: { max: 1 } }) : t.db;
    try {
      const mine = await withUserContext(pooled, a.user.id, (tx) => run(tx, "SELECT id FROM courses"));
      expect(mine.map((r) => r.id)).toEqual([a.tree.course.id]);
      const after = await queryRows(
        pooled,
        sql`SELECT current_setting('app.current_user_id', true) AS uid, current_user AS role, (SELECT count(*) FROM courses) AS courses`,
      );
      expect(after[0]).toMatchObject({ uid: "", role: expect.not.stringMatching(/sensa_app/) });
      expect(Number(after[0]!.courses)).toBe(0);
    } finally {
      if (pooled !== t.db) await closeDb(pooled);
    }
  });

  it("is gone after a failed transaction too", async () => {
    await expect(
      withUserContext(t.db, a.user.id, async (tx) => {
        await run(tx, "SELECT 1/0");
      }),
    ).rejects.toThrow();
    expect(await run(t.db as unknown as Transaction, "SELECT id FROM courses")).toEqual([]);
  });
});

describe("the spec's session-level workflow (psql, Python)", () => {
  it("filters by set_current_user_id, shows everything as admin_role, and filters again after RESET ROLE", async () => {
    const session = t.url ? createDb({ url: t.url, pool: { max: 1 } }) : t.db;
    const q = (s: string) => queryRows(session, sql.raw(s));
    try {
      await q(`SELECT set_current_user_id('${a.user.id}')`);
      expect((await q("SELECT id FROM courses")).map((r) => r.id)).toEqual([a.tree.course.id]);
      await q("SET ROLE admin_role");
      expect((await q("SELECT id FROM courses")).map((r) => r.id)).toEqual(
        expect.arrayContaining([a.tree.course.id, b.tree.course.id]),
      );
      // The spec's RESET ROLE returns to the login user. PGlite's login is a superuser (which
      // RLS never filters), so there the harness returns to the owner role it acts as instead.
      await q(onServer() ? "RESET ROLE" : "SET ROLE sensa_test_owner");
      expect((await q("SELECT id FROM courses")).map((r) => r.id)).toEqual([a.tree.course.id]);
    } finally {
      await q("SELECT set_current_user_id(NULL)");
      if (session !== t.db) await closeDb(session);
    }
  });
});

describe("sensa-db app-login", () => {
  it.skipIf(!onServer())(
    "creates a login that is a member of sensa_app only: it sees its user's rows and cannot become admin_role (server)",
    async () => {
      const user = `sensa_test_login_${Math.random().toString(36).slice(2, 8)}`;
      const password = "correct-horse-battery-staple";
      const { ensureAppLogin } = await import("../src/app-login.js");
      expect(await ensureAppLogin(t.db, { user, password })).toEqual({ user, created: true });
      expect(await ensureAppLogin(t.db, { user, password })).toEqual({ user, created: false });
      const url = new URL(t.url!);
      url.username = user;
      url.password = password;
      const login = createDb({ url: url.toString() });
      try {
        const mine = await withUserContext(login, a.user.id, (tx) => run(tx, "SELECT id FROM courses"));
        expect(mine.map((r) => r.id)).toEqual([a.tree.course.id]);
        expect(
          (await pgErrorOf(withUserContext(login, a.user.id, (tx) => run(tx, "SET LOCAL ROLE admin_role")))).message,
        ).toMatch(/permission denied/);
      } finally {
        await closeDb(login);
        await t.superuserRows(`DROP OWNED BY ${user}; DROP ROLE IF EXISTS ${user}`);
      }
    },
  );

  it("refuses a weak password or an odd role name before any SQL", async () => {
    const { ensureAppLogin } = await import("../src/app-login.js");
    await expect(ensureAppLogin(t.db, { user: "app", password: "short" })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      ensureAppLogin(t.db, { user: 'x"; DROP ROLE postgres; --', password: "long-enough-password-1" }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
