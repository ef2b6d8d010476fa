import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateDrizzleJson, generateMigration } from "drizzle-kit/api";
import { describe, expect, it } from "vitest";
import { bundleHash, readSqlSources, recordedBundleHash } from "../src/authoring/sql-bundle.js";
import { splitSql } from "../src/authoring/split-sql.js";
import { defaultMigrationsFolder, readMigrations } from "../src/migrations/files.js";
import { markerStatement } from "../src/migrations/marker.js";
import * as schema from "../src/schema/index.js";

// These tests keep drizzle/ honest: it must be what `npm run db:generate` makes of src/schema
// and sql/, so a change to either without a generated migration fails CI.
const folder = defaultMigrationsFolder();
const migrations = readMigrations(folder);

describe("drizzle/", () => {
  it("has no schema change pending: src/schema equals the last snapshot", async () => {
    const last = migrations.at(-1)!;
    const idx = String(migrations.length - 1).padStart(4, "0");
    const snapshot = JSON.parse(readFileSync(join(folder, "meta", `${idx}_snapshot.json`), "utf8"));
    const current = generateDrizzleJson(schema as Record<string, unknown>, snapshot.id);
    expect(await generateMigration(snapshot, current), `schema changed after ${last.name}: run npm run db:generate`).toEqual([]);
  });

  it("has no sql/ change pending: the last bundle migration holds sql/ as it is", () => {
    const bundles = migrations.filter((m) => recordedBundleHash(readFileSync(join(folder, `${m.name}.sql`), "utf8")));
    const last = bundles.at(-1)!;
    expect(recordedBundleHash(readFileSync(join(folder, `${last.name}.sql`), "utf8")), "sql/ changed: run npm run db:generate").toBe(
      bundleHash(readSqlSources(join(folder, "..", "sql"))),
    );
  });

  it.each(migrations.map((m) => [m.name, m] as const))("%s ends with the marker that names it in migrations_log", (name, m) => {
    expect(m.statements.at(-1)).toBe(markerStatement(name));
  });

  it.each(migrations.map((m) => [m.name, m] as const))("%s has a rollback in drizzle/rollback/", (_, m) => {
    expect(m.rollback?.statements.length).toBeGreaterThan(0);
  });

  it("passes drizzle-kit check", () => {
    const out = execFileSync("npx", ["drizzle-kit", "check"], { cwd: join(folder, ".."), encoding: "utf8" });
    expect(out).toMatch(/Everything's fine/);
  });
});

describe("the SQL splitter", () => {
  it("splits at top-level semicolons only, keeping quoted and dollar-quoted ones", () => {
    const script = `-- a comment; not a statement
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$;
SELECT 'it''s; fine', "odd;name" FROM t; /* block; comment */
DO $body$ BEGIN PERFORM 1; END $body$`;
    expect(splitSql(script)).toEqual([
      `CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a;b' $$;`,
      `SELECT 'it''s; fine', "odd;name" FROM t;`,
      `/* block; comment */\nDO $body$ BEGIN PERFORM 1; END $body$;`,
    ]);
  });

  it("rejects an unterminated dollar quote rather than guessing", () => {
    expect(() => splitSql("DO $$ BEGIN")).toThrow(/unterminated dollar quote/);
  });
});
