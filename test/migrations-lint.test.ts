import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { BREAKPOINT, defaultMigrationsFolder, readMigrations } from "../src/migrations/files.js";
import { lintMigrations } from "../src/migrations/lint.js";
import { markerStatement } from "../src/migrations/marker.js";
import { concurrentIndexMigration } from "../src/migrations/non-transactional.js";
import { addMigration, copyOfDrizzle } from "./migrations-folder.js";

const run = promisify(execFile);
const root = join(defaultMigrationsFolder(), "..");
const removals: Array<() => void> = [];
afterEach(() => removals.splice(0).forEach((r) => r()));
const folderCopy = () => {
  const copy = copyOfDrizzle();
  removals.push(copy.remove);
  return copy.folder;
};

const lintCi = (folder: string) =>
  run("npx", ["tsx", ".ci/lint-migrations.ts", "--migrations-folder", folder], { cwd: root }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

describe("squawk on migrations", () => {
  it("passes drizzle/: nothing newer than production has a finding that is not accepted", () => {
    const result = lintMigrations();
    expect(result.linted).toEqual(
      readMigrations()
        .slice(3)
        .map((m) => m.name),
    ); // after 0002_sql_objects, production
    expect(result.findings).toEqual([]);
  });

  it("every accepted finding (5 of 0000-0003, 2 of 0005's index rebuild) is one squawk still reports, so the baseline is exact", () => {
    const result = lintMigrations({ all: true });
    expect(result.findings).toEqual([]);
    expect(result.stale).toEqual([]);
    expect(result.accepted).toBe(7);
  });

  it("fails CI on a dangerous new migration, with squawk's message", async () => {
    const folder = folderCopy();
    addMigration(folder, "0004_dangerous", [
      "CREATE INDEX courses_created_at_idx ON courses (created_at);",
      "ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;",
      "ALTER TABLE courses ADD COLUMN code text NOT NULL;",
    ]);
    const result = await lintCi(folder);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "drizzle/0004_dangerous.sql:1: require-concurrent-index-creation: During normal index creation, table updates are blocked",
    );
    expect(result.stdout).toContain("help: Use `concurrently` to avoid blocking writes.");
    expect(result.stdout).toMatch(
      /drizzle\/0004_dangerous\.sql:3: adding-not-nullable-field: Setting a column `NOT NULL` blocks reads/,
    );
    expect(result.stdout).toMatch(/drizzle\/0004_dangerous\.sql:5: adding-required-field/);
    expect(result.stdout).toMatch(/3 finding\(s\) to fix, 2 accepted/); // the 2 accepted are 0005's
  }, 120_000);

  it("passes the index migration db:generate writes (CONCURRENTLY, outside a transaction), and refuses CONCURRENTLY inside the batch transaction", async () => {
    const folder = folderCopy();
    addMigration(folder, "0004_courses_created_at_idx", []);
    const generated = concurrentIndexMigration([
      'CREATE INDEX "courses_created_at_idx" ON "courses" USING btree ("created_at");',
    ])!;
    writeFileSync(
      join(folder, "0004_courses_created_at_idx.sql"),
      `${generated}${BREAKPOINT}\n${markerStatement("0004_courses_created_at_idx")}\n`,
    );
    expect(readMigrations(folder).at(-1)!.transactional).toBe(false);
    expect(lintMigrations({ migrationsFolder: folder }).findings).toEqual([]);

    addMigration(folder, "0005_concurrently_in_batch", [
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "courses_updated_at_idx" ON "courses" ("updated_at");',
    ]);
    expect(lintMigrations({ migrationsFolder: folder }).findings).toEqual([
      expect.objectContaining({
        migration: "0005_concurrently_in_batch",
        rule: "ban-concurrent-index-creation-in-transaction",
      }),
    ]);
  });
});

describe("the index migration db:generate writes", () => {
  it("turns a migration of plain CREATE INDEX statements into a non-transactional CONCURRENTLY one", () => {
    const text = concurrentIndexMigration([
      'CREATE INDEX "courses_created_at_idx" ON "courses" USING btree ("created_at");',
      'CREATE UNIQUE INDEX "users_email_lower_idx" ON "users" USING btree (lower("email"));',
    ]);
    expect(text).toMatch(/^-- sensa-db: no-transaction\n/);
    expect(text).toContain(
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "courses_created_at_idx" ON "courses" USING btree ("created_at");',
    );
    expect(text).toContain(`${BREAKPOINT}\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_email_lower_idx"`);
  });

  it("leaves a migration that does anything else in the batch transaction", () => {
    expect(
      concurrentIndexMigration([
        'ALTER TABLE "courses" ADD COLUMN "code" text;',
        'CREATE INDEX "courses_code_idx" ON "courses" ("code");',
      ]),
    ).toBeUndefined();
    expect(concurrentIndexMigration(["-- Custom SQL migration file, put your code below! --"])).toBeUndefined();
  });
});
