import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSqlMigration } from "../src/authoring/sql-migration.js";
import { readSqlSources } from "../src/authoring/sql-sources.js";
import { readJournal, recordedBundleHash, sqlStatePath } from "../src/authoring/sql-state.js";
import { splitSql } from "../src/authoring/split-sql.js";
import { queryRows } from "../src/db/query.js";
import { catalogSnapshot } from "../src/migrations/catalog.js";
import { defaultMigrationsFolder, sha256 } from "../src/migrations/files.js";
import { migrate } from "../src/migrations/migrate.js";
import { rollback } from "../src/migrations/rollback.js";
import { onServer, openEmptyDatabase, type TestDatabase } from "./support/database.js";

// npm run db:generate turns a sql/ change into a migration of only what changed. Every test
// generates into a scratch copy of sql/ and drizzle/, never into the repository's.
const repoDrizzle = defaultMigrationsFolder();
const repoSql = join(repoDrizzle, "..", "sql");

interface Scratch {
  sqlDir: string;
  drizzleDir: string;
  /** Rewrites a file of the scratch sql/ (ORDER included). */
  edit(file: string, change: (text: string) => string): void;
  generate(): ReturnType<typeof generateSqlMigration>;
  /** The files of sql/ a generated migration (or rollback) holds, in order, from its labels. */
  filesIn(path: string): string[];
}

const scratches: string[] = [];
function scratch(): Scratch {
  const root = mkdtempSync(join(tmpdir(), "sensa-sql-gen-"));
  scratches.push(root);
  const sqlDir = join(root, "sql");
  const drizzleDir = join(root, "drizzle");
  cpSync(repoSql, sqlDir, { recursive: true });
  cpSync(repoDrizzle, drizzleDir, { recursive: true });
  return {
    sqlDir,
    drizzleDir,
    edit(file, change) {
      const path = join(sqlDir, file);
      writeFileSync(path, change(readFileSync(path, "utf8")));
    },
    generate: () => generateSqlMigration({ sqlDir, drizzleDir }),
    filesIn: (path) => [...readFileSync(path, "utf8").matchAll(/^-- sql\/(\S+?\.sql)/gm)].map((m) => m[1]!),
  };
}
afterAll(() => {
  for (const root of scratches) rmSync(root, { recursive: true, force: true });
});

/** The repository's last migration from sql/: the one whose state drizzle/meta/_sql/ holds last. */
const lastSqlMigration = () =>
  readdirSync(join(repoDrizzle, "meta", "_sql"))
    .map((f) => f.replace(/\.json$/, ""))
    .sort()
    .at(-1)!;
/** The tag db:generate gives the next migration of the repository's drizzle/. */
const nextTag = () => `${String(readJournal(repoDrizzle).entries.length).padStart(4, "0")}_sql_objects`;
const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();
const replaceOrFail = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`test setup: "${from}" not found`);
  return text.replace(from, () => to);
};

describe("the SQL splitter is PostgreSQL's own parser", () => {
  it("keeps a semicolon inside an E'' string with a backslash-escaped quote", async () => {
    expect(await splitSql(`SELECT E'it\\'s; fine' AS a; SELECT 2`)).toEqual([
      `SELECT E'it\\'s; fine' AS a;`,
      "SELECT 2;",
    ]);
  });

  it("skips a nested block comment with semicolons in it", async () => {
    expect(await splitSql(`SELECT 1; /* a /* b; */ c; */ SELECT 2;`)).toEqual(["SELECT 1;", "SELECT 2;"]);
  });

  it("keeps a BEGIN ATOMIC … END body, semicolons and all, in one statement", async () => {
    const create = `CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END`;
    expect(await splitSql(`${create};\nSELECT two();`)).toEqual([`${create};`, "SELECT two();"]);
  });

  it("keeps dollar-quoted bodies whole, tagged or not, with quotes and other tags inside", async () => {
    const a = `CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$`;
    const b = `DO $body$ BEGIN PERFORM $x$;$x$; RAISE NOTICE 'it''s'; END $body$`;
    expect(await splitSql(`${a};\n${b}`)).toEqual([`${a};`, `${b};`]);
  });

  it("drops comments between statements, keeps those inside one, and cuts multi-byte text right", async () => {
    expect(await splitSql(`-- lead; in\nSELECT 'é' -- inside\n, 2; /* after; */\n-- trailing`)).toEqual([
      `SELECT 'é' -- inside\n, 2;`,
    ]);
  });

  it("rejects what the server would not parse, naming the file and line", async () => {
    const s = scratch();
    s.edit("functions/search_courses.sql", (t) =>
      replaceOrFail(t, "-- @down\nDROP FUNCTION", "-- @down\nDROP FUNCTON"),
    );
    await expect(readSqlSources(s.sqlDir)).rejects.toThrow(
      /^sql\/functions\/search_courses\.sql line 32: syntax error at or near "FUNCTON"/,
    );
  });
});

describe("the state of sql/ the migrations recorded", () => {
  it("0003's state is exactly what 0003 bundled: it hashes to the bundle hash recorded in 0003", () => {
    const state = JSON.parse(readFileSync(sqlStatePath(repoDrizzle, "0003_sql_objects"), "utf8"));
    expect(sha256(JSON.stringify(state.files))).toBe(
      recordedBundleHash(readFileSync(join(repoDrizzle, "0003_sql_objects.sql"), "utf8")),
    );
  });

  it("with sql/ unchanged, emits nothing and writes nothing", async () => {
    const s = scratch();
    const before = listing(s.drizzleDir);
    expect(await s.generate()).toBeUndefined();
    expect(listing(s.drizzleDir)).toEqual(before);
  });

  it("a comment or layout edit is no change; an edit inside a function body is", async () => {
    const s = scratch();
    s.edit(
      "functions/search_courses.sql",
      (t) =>
        `-- A new comment.\n${replaceOrFail(t, "result_limit integer DEFAULT 20", "result_limit  integer  DEFAULT 20 /* rows */")}`,
    );
    s.edit("grants/grants.sql", (t) =>
      t.replace("GRANT USAGE ON SCHEMA public", "GRANT  USAGE ON SCHEMA public /* spaced */"),
    );
    expect(await s.generate()).toBeUndefined();
    s.edit("functions/search_courses.sql", (t) =>
      t.replace("ORDER BY similarity DESC", "ORDER BY similarity DESC -- best first"),
    );
    expect((await s.generate())?.plan.changed).toEqual(["functions/search_courses.sql"]);
  });
});

describe(`a migration from a sql/ change, applied and rolled back as the non-superuser database owner (${onServer() ? "server" : "PGlite"})`, () => {
  let t: TestDatabase;
  let atStart: Map<string, string>;
  beforeAll(async () => {
    t = await openEmptyDatabase();
    await migrate(t.db);
    atStart = await catalogSnapshot(t.db);
  }, 120_000);
  afterAll(() => t?.close());

  /** Applies the scratch's new migration, checks it, rolls it back: the catalog is as before again. */
  async function applyAndRollBack(s: Scratch, tag: string, check: () => Promise<void>) {
    expect((await migrate(t.db, { migrationsFolder: s.drizzleDir })).applied).toEqual([tag]);
    await check();
    const { steps } = await rollback(t.db, { migrationsFolder: s.drizzleDir, expectLast: tag });
    expect(steps.map((step) => step.migration)).toEqual([tag]);
    expect(await catalogSnapshot(t.db)).toEqual(atStart);
  }
  const fn = async (signature: string) => {
    const [row] = await queryRows(
      t.db,
      sql`SELECT p.proconfig::text AS config,
            has_function_privilege('sensa_app', p.oid, 'EXECUTE') AS app,
            EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0) AS public
          FROM pg_proc p WHERE p.oid = to_regprocedure(${signature})`,
    );
    return row;
  };

  it("a changed function emits only its file, then the grants and security/functions.sql", async () => {
    const s = scratch();
    s.edit("functions/search_courses.sql", (t) =>
      replaceOrFail(t, "word_similarity_threshold = 0.4", "word_similarity_threshold = 0.3"),
    );
    const { tag } = (await s.generate())!;
    expect(tag).toBe(nextTag());
    expect(s.filesIn(join(s.drizzleDir, `${tag}.sql`))).toEqual([
      "functions/search_courses.sql",
      "grants/grants.sql",
      "security/functions.sql",
    ]);
    // Its @down is the same in both versions, so the rollback just applies the previous version again.
    expect(s.filesIn(join(s.drizzleDir, "rollback", `${tag}.sql`))).toEqual([
      "functions/search_courses.sql",
      "grants/grants.sql",
      "security/functions.sql",
    ]);
    expect(readFileSync(join(s.drizzleDir, "rollback", `${tag}.sql`), "utf8")).toContain(
      "word_similarity_threshold = 0.4",
    );
    expect(await s.generate(), "a second run finds nothing new").toBeUndefined();

    await applyAndRollBack(s, tag, async () => {
      expect(await fn("search_courses(uuid, text, integer)")).toEqual({
        config: '{pg_trgm.word_similarity_threshold=0.3,"search_path=public, pg_temp"}',
        app: true,
        public: false,
      });
    });
    expect((await fn("search_courses(uuid, text, integer)"))?.config).toContain("word_similarity_threshold=0.4");
  });

  it("a changed policy helper re-runs every policy file that uses it", async () => {
    const s = scratch();
    s.edit("policies/owner_policies.sql", (t) =>
      replaceOrFail(
        t,
        "-- Drops every policy of a table",
        "CREATE OR REPLACE FUNCTION rls_noop() RETURNS void LANGUAGE sql AS $$ SELECT $$;\n\n-- Drops every policy of a table",
      ),
    );
    s.edit("policies/owner_policies.sql", (t) =>
      replaceOrFail(t, "-- @down\n", "-- @down\nDROP FUNCTION IF EXISTS rls_noop();\n"),
    );
    const { tag, plan } = (await s.generate())!;
    const policyFiles = readFileSync(join(s.sqlDir, "ORDER"), "utf8").match(/^policies\/(?!owner_policies)\S+/gm)!;
    expect(policyFiles).toHaveLength(10);
    expect(s.filesIn(join(s.drizzleDir, `${tag}.sql`))).toEqual([
      "policies/owner_policies.sql",
      ...policyFiles,
      "security/functions.sql",
    ]);
    expect(plan.rerun.find((r) => r.file === "policies/courses.sql")?.after).toEqual(["policies/owner_policies.sql"]);
    await applyAndRollBack(s, tag, async () => {
      expect(await fn("rls_noop()")).toMatchObject({ public: false });
    });
    expect(await fn("rls_noop()")).toBeUndefined();
  });

  it("a new file emits its up, and its rollback its @down", async () => {
    const s = scratch();
    writeFileSync(
      join(s.sqlDir, "functions/course_count.sql"),
      `CREATE OR REPLACE FUNCTION course_count(p_user_id uuid) RETURNS bigint\nLANGUAGE sql STABLE\nAS $$ SELECT count(*) FROM courses WHERE user_id = p_user_id $$;\n\n-- @down\nDROP FUNCTION IF EXISTS course_count(uuid);\n`,
    );
    s.edit("ORDER", (t) =>
      replaceOrFail(
        t,
        "functions/find_or_create_user.sql\n",
        "functions/find_or_create_user.sql\nfunctions/course_count.sql\n",
      ),
    );
    const { tag, plan } = (await s.generate())!;
    expect(plan.added).toEqual(["functions/course_count.sql"]);
    expect(s.filesIn(join(s.drizzleDir, `${tag}.sql`))).toEqual([
      "functions/course_count.sql",
      "grants/grants.sql",
      "security/functions.sql",
    ]);
    const back = readFileSync(join(s.drizzleDir, "rollback", `${tag}.sql`), "utf8");
    expect(back).toContain("DROP FUNCTION IF EXISTS course_count(uuid);");
    expect(back).not.toContain("CREATE OR REPLACE FUNCTION course_count");
    await applyAndRollBack(s, tag, async () => {
      // security/functions.sql ran after it: no EXECUTE for PUBLIC, search_path pinned.
      expect(await fn("course_count(uuid)")).toEqual({
        config: '{"search_path=public, pg_temp"}',
        app: false,
        public: false,
      });
    });
    expect(await fn("course_count(uuid)")).toBeUndefined();
  });

  it("a file removed from sql/ORDER must say what happens: `down` runs its last @down, and the rollback its last up", async () => {
    const s = scratch();
    const file = "functions/get_user_learning_stats.sql";
    rmSync(join(s.sqlDir, file));
    s.edit("ORDER", (t) => replaceOrFail(t, `${file}\n`, ""));
    s.edit("grants/grants.sql", (t) =>
      t.replaceAll(
        "\tget_user_progress_summary(uuid, uuid),\n\tget_user_learning_stats(uuid)",
        "\tget_user_progress_summary(uuid, uuid)",
      ),
    );
    await expect(s.generate()).rejects.toThrow(
      `sql/ORDER no longer lists ${file}, which ${lastSqlMigration()} applied`,
    );
    expect(existsSync(join(s.drizzleDir, `${nextTag()}.sql`)), "nothing written").toBe(false);

    s.edit("ORDER", (t) => `${t}removed ${file} down   # replaced by get_course_stats\n`);
    const { tag, plan } = (await s.generate())!;
    expect(plan).toMatchObject({
      dropped: [file],
      changed: ["grants/grants.sql"],
      rerun: [{ file: "security/functions.sql" }],
    });
    // Last first: the revoke the previous grants.sql had (it names the function), the function's
    // @down, then grants.sql as it is now and security/functions.sql.
    expect(s.filesIn(join(s.drizzleDir, `${tag}.sql`))).toEqual([
      "grants/grants.sql",
      file,
      "grants/grants.sql",
      "security/functions.sql",
    ]);
    expect(readFileSync(join(s.drizzleDir, `${tag}.sql`), "utf8")).toContain(
      "DROP FUNCTION IF EXISTS get_user_learning_stats(uuid);",
    );
    await applyAndRollBack(s, tag, async () => {
      expect(await fn("get_user_learning_stats(uuid)")).toBeUndefined();
    });
    expect(await fn("get_user_learning_stats(uuid)")).toMatchObject({ app: true, public: false });
  });

  it("a file removed with `keep` emits nothing; the next migration leaves it out of the state, then the line is reported done", async () => {
    const s = scratch();
    const file = "policies/user_progress.sql";
    rmSync(join(s.sqlDir, file));
    s.edit(
      "ORDER",
      (t) => `${replaceOrFail(t, file, "# (moved)")}removed ${file} keep  # now a pgPolicy in src/schema\n`,
    );
    expect(await s.generate()).toBeUndefined();

    s.edit("functions/search_courses.sql", (t) => replaceOrFail(t, "LIMIT result_limit", "LIMIT result_limit + 0"));
    const { tag, plan } = (await s.generate())!;
    expect(plan).toMatchObject({ kept: [file], dropped: [], changed: ["functions/search_courses.sql"] });
    expect(s.filesIn(join(s.drizzleDir, `${tag}.sql`))).not.toContain(file);
    expect(s.filesIn(join(s.drizzleDir, "rollback", `${tag}.sql`))).not.toContain(file);
    const state = JSON.parse(readFileSync(sqlStatePath(s.drizzleDir, tag), "utf8"));
    expect(state.files.map((f: { file: string }) => f.file)).not.toContain(file);

    await applyAndRollBack(s, tag, async () => {
      // The kept file's objects are untouched: the policies of user_progress are still there.
      const [row] = await queryRows(
        t.db,
        sql`SELECT count(*)::int AS n FROM pg_policy WHERE polrelid = 'user_progress'::regclass`,
      );
      expect(row?.n).toBe(5);
    });
    s.edit("functions/search_courses.sql", (t) => replaceOrFail(t, "LIMIT result_limit + 0", "LIMIT result_limit"));
    expect((await s.generate())?.plan.staleRemovedLines).toEqual([file]);
  });
});
