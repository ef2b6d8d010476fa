import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateDrizzleJson, generateMigration } from "drizzle-kit/api";
import { describe, expect, it } from "vitest";
import { planSqlMigration } from "../src/authoring/sql-plan.js";
import { readSqlOrder, readSqlSources } from "../src/authoring/sql-sources.js";
import { latestSqlState } from "../src/authoring/sql-state.js";
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
    expect(
      await generateMigration(snapshot, current),
      `schema changed after ${last.name}: run npm run db:generate`,
    ).toEqual([]);
  });

  it("has no sql/ change pending: sql/ is as the last migration written from it left it", async () => {
    const sqlDir = join(folder, "..", "sql");
    const order = readSqlOrder(sqlDir);
    const plan = await planSqlMigration(latestSqlState(folder), await readSqlSources(sqlDir, order), order);
    expect(
      plan && [...plan.added, ...plan.changed, ...plan.dropped],
      "sql/ changed: run npm run db:generate",
    ).toBeUndefined();
  });

  it.each(migrations.map((m) => [m.name, m] as const))(
    "%s ends with the marker that names it in migrations_log",
    (name, m) => {
      expect(m.statements.at(-1)).toBe(markerStatement(name));
    },
  );

  it.each(migrations.map((m) => [m.name, m] as const))("%s has a rollback in drizzle/rollback/", (_, m) => {
    expect(m.rollback?.statements.length).toBeGreaterThan(0);
  });

  it("passes drizzle-kit check", () => {
    const out = execFileSync("npx", ["drizzle-kit", "check"], { cwd: join(folder, ".."), encoding: "utf8" });
    expect(out).toMatch(/Everything's fine/);
  });
});
