import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "../src/cli/command.js";
import { COMMANDS } from "../src/cli/commands/index.js";
import { runCli } from "../src/cli/run.js";
import { defaultMigrationsFolder, readMigrations } from "../src/migrations/files.js";
import { openEmptyDatabase, openTestDatabase, type TestDatabase } from "./support/database.js";

const root = join(defaultMigrationsFolder(), "..");
const last = readMigrations().at(-1)!;

/** What `sensa-db` printed and returned for these arguments, recorded before the CLI was split into one file per command. */
interface Recorded {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}
const recorded = JSON.parse(readFileSync(join(root, "test", "cli-usage.fixtures.json"), "utf8")) as Recorded[];

/** runCli in this process, its output collected as the terminal would show it; on `t`'s database when given. */
async function cli(...args: Array<string | TestDatabase>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const t = args.find((a): a is TestDatabase => typeof a !== "string");
  const io: CliIo = {
    stdout: (text) => (stdout += `${text}\n`),
    stderr: (text) => (stderr += `${text}\n`),
    env: { ...process.env, DATABASE_URL: "" },
    database: t && { db: t.db, target: undefined, description: `the test's ${t.kind} database` },
  };
  const code = await runCli(
    args.filter((a): a is string => typeof a === "string"),
    io,
  );
  return { code, stdout, stderr };
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const open = async (kind: "migrated" | "empty") => {
  const t = kind === "migrated" ? await openTestDatabase() : await openEmptyDatabase();
  cleanups.push(() => t.close());
  return t;
};

describe("sensa-db: one module per command, one generic dispatcher", () => {
  it("prints every --help text, the command list, and the errors for an unknown command or option exactly as before, with the same exit codes", async () => {
    expect(recorded.length).toBe(20);
    for (const r of recorded) {
      expect(await cli(...r.args), `sensa-db ${r.args.join(" ")}`).toEqual({
        code: r.code,
        stdout: r.stdout,
        stderr: r.stderr,
      });
    }
  });

  it("the sensa-db binary prints the same as runCli: a wrong option gives the command's usage on stderr, exit 2", async () => {
    const r = recorded.find((x) => x.args.join(" ") === "migrate --bogus")!;
    const run = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...r.args], {
      cwd: root,
    }).then(
      () => ({ code: 0 }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    expect(run).toEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr });
  });

  it("each command is a module of src/cli/commands named after it, and --help lists every one", async () => {
    const modules = readdirSync(join(root, "src", "cli", "commands")).filter((f) => f !== "index.ts");
    expect(COMMANDS.map((c) => `${c.name}.ts`).sort()).toEqual(modules.sort());
    const { stdout } = await cli("--help");
    for (const c of COMMANDS) expect(stdout).toContain(`  ${c.name.padEnd(10)}${c.summary}\n`);
  });
});

describe("sensa-db rollback through the dispatcher", { timeout: 180_000 }, () => {
  it("--dry-run prints what it would roll back and changes nothing", async () => {
    const t = await open("migrated");
    const dry = await cli("rollback", "--dry-run", t);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      `would roll back 1 migration(s):\n  - ${last.name} (drizzle/rollback/${last.name}.sql, ${last.rollback!.statements.length} statements)\n`,
    );
    const status = await cli("status", "--json", t);
    expect(JSON.parse(status.stdout).migrations.map((m: { state: string }) => m.state)).toEqual(
      readMigrations().map(() => "applied"),
    );
  });

  it("an error is one line on stderr naming the command, no stack, exit 1; with --json also a document with the error's code on stdout", async () => {
    const t = await open("empty");
    const text = await cli("rollback", "--to", "0042_nothing", t);
    expect(text.code).toBe(1);
    expect(text.stderr.trim().split("\n")).toEqual([
      `sensa-db: using the test's ${t.kind} database`,
      "sensa-db rollback: --to 0042_nothing: no applied migration has that name (applied: none)",
    ]);
    const json = await cli("rollback", "--to", "0042_nothing", "--json", t);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      error: {
        code: "ROLLBACK_TARGET",
        message: "--to 0042_nothing: no applied migration has that name (applied: none)",
      },
    });
    expect(json.stderr).toBe(
      "sensa-db rollback: --to 0042_nothing: no applied migration has that name (applied: none)\n",
    );
  });
});
