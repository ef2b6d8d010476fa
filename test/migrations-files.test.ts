import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { describe, expect, it } from "vitest";
import { defaultMigrationsFolder, readMigrations, sha256 } from "../src/migrations/files.js";

const folder = defaultMigrationsFolder();
const root = join(folder, "..");

describe("reading drizzle/ with Drizzle's own reader", () => {
  it("the checksums of the applied migrations 0000-0003 are the hashes databases recorded when they applied them", () => {
    // As recorded in drizzle.__drizzle_migrations by every database migrated so far: a change
    // here would make migrate refuse each of them (MigrationChecksumError).
    expect(
      readMigrations()
        .slice(0, 4)
        .map((m) => [m.name, m.hash]),
    ).toEqual([
      ["0000_bootstrap", "0f75e0eb138670177ce128adab3b33eb4f31d5b0054841dccb7f7dfb79141424"],
      ["0001_schema", "8e7575bdd90696693a2d601c79c1c51d58e2dddc70a20618bb7609b84747cf5f"],
      ["0002_sql_objects", "a0102a20934cf45f1f030b79ee7fd0826712c818a12a3eb0ae0e0e38b2627955"],
      ["0003_sql_objects", "76933f6fcd98f7e637d4fb0b1b7fa45f0c84f3d3b8f23fb095cd3a4067f9f5d0"],
    ]);
  });

  it("each migration's checksum, time and statements are those drizzle-orm/migrator's readMigrationFiles gives drizzle-kit", () => {
    const ours = readMigrations();
    const drizzles = readMigrationFiles({ migrationsFolder: folder });
    expect(ours.map((m) => m.hash)).toEqual(drizzles.map((d) => d.hash));
    expect(ours.map((m) => m.journalTime)).toEqual(drizzles.map((d) => d.folderMillis));
    expect(ours.map((m) => m.statements)).toEqual(
      drizzles.map((d) => d.sql.map((s) => s.trim()).filter((s) => s.length > 0)),
    );
  });

  it("the checksum is the sha256 of the file's bytes, so it names the file as checked out", () => {
    for (const m of readMigrations())
      expect(m.hash, m.name).toBe(sha256(readFileSync(join(folder, `${m.name}.sql`), "utf8")));
  });

  it(".gitattributes keeps drizzle/ and sql/ in LF whatever the checkout's core.autocrlf, new files included", () => {
    const paths = [
      "drizzle/0001_schema.sql",
      "drizzle/rollback/0001_schema.sql",
      "drizzle/meta/_journal.json",
      "drizzle/0099_next.sql",
      "sql/functions/next.sql",
    ];
    const attributes = execFileSync("git", ["check-attr", "eol", "--", ...paths], { cwd: root, encoding: "utf8" });
    expect(attributes.trim().split("\n")).toEqual(paths.map((p) => `${p}: eol: lf`));
  });
});
