import { readdirSync, readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADMIN_ROLE,
  APP_ROLE,
  CURRENT_USER_SETTING,
  EMBEDDING_DIMENSIONS,
  EXTENSIONS,
  PLATFORM_ROLES,
} from "../src/db/constants.js";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

// The facts TypeScript and SQL share are defined once, in src/db/constants.ts. The SQL cannot
// import them, so this reads every file of sql/ (what the next migration bundles) and checks it
// uses the same values: a role, the context setting or the embedding size changed on one side
// only fails here. drizzle/0000-0003 are applied and frozen; the catalog checks cover them.

const sqlDir = new URL("../sql/", import.meta.url);
/** Every file of sql/, comments removed (a comment may name anything). */
const sqlFiles: Array<[file: string, text: string]> = readdirSync(sqlDir, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".sql"))
  .sort()
  .map((f) => [f, readFileSync(new URL(f, sqlDir), "utf8").replace(/--[^\n]*/g, "")]);

/** `file: value` for every match of `pattern`'s first group in sql/. */
function found(pattern: RegExp, files = sqlFiles): string[] {
  return files.flatMap(([file, text]) => [...text.matchAll(pattern)].map((m) => `${file}: ${m[1]}`));
}
const values = (hits: string[]) => [...new Set(hits.map((h) => h.slice(h.indexOf(": ") + 2)))].sort();

/**
 * The role names a SQL text refers to: the roles it creates, grants to or revokes from, gives
 * policies or ownership to, switches to, or compares with by name.
 */
function rolesIn(files: Array<[string, string]>): string[] {
  const names = (list: string) => list.split(",").map((n) => n.trim());
  return [
    ...found(/\bCREATE ROLE (\w+)/g, files),
    ...found(/\brolname (?:=|<>) '(\w+)'/g, files),
    ...found(/'(\w+)'::regrole/g, files),
    ...found(/\bcurrent_user (?:=|<>) '(\w+)'/g, files),
    ...found(/\bOWNER TO (\w+)/g, files),
    ...found(/\bSET (?:LOCAL |SESSION )?ROLE (\w+)/g, files),
    // CREATE POLICY … TO role (also inside format() strings)
    ...found(/\bPOLICY [^;]*?\bTO (\w+)/g, files),
    // GRANT … TO list; REVOKE … FROM list (a role granted to a role: GRANT a, b TO %I)
    ...found(/\bGRANT ([\w, ]+) TO %I/g, files).flatMap((h) =>
      names(h.slice(h.indexOf(": ") + 2)).map((n) => `${h.slice(0, h.indexOf(": "))}: ${n}`),
    ),
    ...found(/\b(?:GRANT [^;]*?\bTO|REVOKE [^;]*?\bFROM) ([\w, ]+?)\s*(?:;|\n|$)/g, files).flatMap((h) => {
      const file = h.slice(0, h.indexOf(": "));
      return names(h.slice(h.indexOf(": ") + 2)).map((n) => `${file}: ${n}`);
    }),
  ].filter((h) => !/: (?:PUBLIC|%I|target_owner)$/.test(h));
}

describe("sql/ uses the TypeScript constants", () => {
  it("roles: sql/ creates exactly PLATFORM_ROLES and names no other role", () => {
    expect(values(found(/\bCREATE ROLE (\w+)/g))).toEqual([...PLATFORM_ROLES].sort());
    const hits = rolesIn(sqlFiles);
    expect(hits.length).toBeGreaterThan(10); // grants, policies, ownership: the check reads them
    expect(hits.filter((h) => !(PLATFORM_ROLES as readonly string[]).includes(h.slice(h.indexOf(": ") + 2)))).toEqual(
      [],
    );
    expect(values(hits)).toEqual([ADMIN_ROLE, APP_ROLE].sort());
  });

  it("roles: a misspelt or new role in a grant, a policy or an ownership is caught", () => {
    const drifted: Array<[string, string]> = [
      ["grants.sql", "GRANT SELECT ON courses TO sensa_ap;"],
      ["policies.sql", "EXECUTE format('CREATE POLICY %I ON %s TO admin USING (true)', n, t);"],
      ["owner.sql", "ALTER FUNCTION f() OWNER TO sensa_admin;"],
      ["revoke.sql", "REVOKE ALL ON users FROM sensa_app, reporting;"],
    ];
    const unknown = rolesIn(drifted).filter(
      (h) => !(PLATFORM_ROLES as readonly string[]).includes(h.slice(h.indexOf(": ") + 2)),
    );
    expect(unknown.sort()).toEqual([
      "grants.sql: sensa_ap",
      "owner.sql: sensa_admin",
      "policies.sql: admin",
      "revoke.sql: reporting",
    ]);
  });

  it("the context setting: every app.* setting sql/ reads or sets is CURRENT_USER_SETTING", () => {
    const hits = found(/\b(?:current_setting|set_config)\('(app\.[\w.]+)'/g);
    expect(hits.length).toBeGreaterThanOrEqual(2); // app_current_user_id() reads it, set_current_user_id() sets it
    expect(values(hits)).toEqual([CURRENT_USER_SETTING]);
  });

  it("embeddings: every vector(n) and halfvec(n) in sql/ has EMBEDDING_DIMENSIONS", () => {
    const hits = found(/\b(?:vector|halfvec)\((\d+)\)/g);
    expect(hits.length).toBeGreaterThanOrEqual(2); // the two vector search functions' arguments
    expect(values(hits)).toEqual([String(EMBEDDING_DIMENSIONS)]);
  });

  it("extensions: sql/ creates none outside EXTENSIONS, and drizzle/0000 created exactly EXTENSIONS", () => {
    const created = (text: string) =>
      [...text.matchAll(/\bCREATE EXTENSION (?:IF NOT EXISTS )?"?([\w-]+)"?/g)].map((m) => m[1]!);
    expect(
      sqlFiles.flatMap(([, text]) => created(text)).filter((e) => !(EXTENSIONS as readonly string[]).includes(e)),
    ).toEqual([]);
    const bootstrap = readFileSync(new URL("../drizzle/0000_bootstrap.sql", import.meta.url), "utf8");
    expect(created(bootstrap).sort()).toEqual([...EXTENSIONS].sort());
  });
});

describe("TypeScript takes these values from src/db/constants.ts only", () => {
  it("no other file of src/ spells a platform role, the context setting or an extension as a string", () => {
    const srcDir = new URL("../src/", import.meta.url);
    const literals = [...PLATFORM_ROLES, CURRENT_USER_SETTING, ...EXTENSIONS.filter((e) => e.includes("-"))];
    const spelt = readdirSync(srcDir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && f !== "db/constants.ts")
      .flatMap((f) => {
        // Code only: comments may name anything.
        const code = readFileSync(new URL(f, srcDir), "utf8")
          .replace(/\/\*[\s\S]*?\*\//g, "")
          .replace(/(^|[^:])\/\/[^\n]*/g, "$1");
        return literals
          .filter((l) => new RegExp(`["'\`]${l.replace(/[.-]/g, "\\$&")}["'\`]`).test(code))
          .map((l) => `src/${f}: ${l}`);
      });
    expect(spelt).toEqual([]);
  });
});

describe("a migrated database has what the constants say", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(() => t?.close());

  it("its extensions are EXTENSIONS", async () => {
    const rows = await queryRows(t.db, "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1");
    expect(rows.map((r) => r.extname)).toEqual([...EXTENSIONS].sort());
  });

  it("the roles of PLATFORM_ROLES exist, cannot log in and do not bypass row-level security", async () => {
    const names = sql.join(
      PLATFORM_ROLES.map((r) => sql`${r}`),
      sql`, `,
    );
    const rows = await queryRows(
      t.db,
      sql`SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname IN (${names}) ORDER BY 1`,
    );
    expect(rows).toEqual(
      [...PLATFORM_ROLES].sort().map((rolname) => ({ rolname, rolcanlogin: false, rolbypassrls: false })),
    );
  });

  it("app_current_user_id() reads CURRENT_USER_SETTING", async () => {
    const id = "4b0f2a1e-9c7d-4e8a-b6f5-3d2c1b0a9f8e";
    const rows = await t.db.transaction(async (tx) => {
      await queryRows(tx, `SELECT set_config('${CURRENT_USER_SETTING}', '${id}', true)`);
      return queryRows(tx, "SELECT app_current_user_id() AS id");
    });
    expect(rows).toEqual([{ id }]);
  });

  it("embedding columns are vector(EMBEDDING_DIMENSIONS)", async () => {
    const rows = await queryRows(
      t.db,
      `SELECT DISTINCT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname = 'embedding' AND NOT a.attisdropped`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows)
      expect(String(r.type)).toMatch(new RegExp(`^(?:vector|halfvec)\\(${EMBEDDING_DIMENSIONS}\\)$`));
  });
});
