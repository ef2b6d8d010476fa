import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { ConfigurationError } from "../db/errors.js";
import { defaultMigrationsFolder, readMigrations, type MigrationFile } from "./files.js";

/** One problem squawk reports in a migration. */
export interface LintFinding {
  migration: string;
  /** 1-based, as an editor shows it. */
  line: number;
  /** squawk's rule, e.g. `require-concurrent-index-creation` (https://squawkhq.com/docs/<rule>). */
  rule: string;
  message: string;
  help: string | undefined;
}

/** A finding reviewed and accepted, with why: `.ci/squawk-accepted.json`. */
export interface AcceptedFinding {
  migration: string;
  line: number;
  rule: string;
  reason: string;
}

interface AcceptedFile {
  /** The last migration applied in production: later ones are linted. */
  production: string;
  accepted: AcceptedFinding[];
}

export interface LintOptions {
  migrationsFolder?: string;
  /** Holds squawk.toml and squawk-accepted.json; default: the package's .ci/. */
  configDir?: string;
  /** Lint these migrations only (names), e.g. the ones db:generate just wrote. */
  only?: string[];
  /** Lint every migration, including those already applied in production. */
  all?: boolean;
}

export interface LintResult {
  /** The migrations linted. */
  linted: string[];
  /** Findings not accepted: each fails CI. */
  findings: LintFinding[];
  /** How many findings an entry of the accepted file covered. */
  accepted: number;
  /** Accepted entries, among the migrations linted, that squawk no longer reports. */
  stale: AcceptedFinding[];
}

/**
 * Runs squawk (npm `squawk-cli`, offline) on the migrations newer than the last one applied in
 * production (named in `.ci/squawk-accepted.json`), with `.ci/squawk.toml`: transactional
 * migrations as if inside a transaction (so `CONCURRENTLY` there is an error),
 * non-transactional ones as they run, outside one. Findings listed in the accepted file (with
 * a reason each) pass; the rest are returned, with squawk's message. Needs squawk-cli, a
 * devDependency: a tool for this repository, not for services.
 *
 * ```ts
 * const { findings } = lintMigrations();
 * for (const f of findings) console.log(formatFinding(f));
 * ```
 */
export function lintMigrations(options: LintOptions = {}): LintResult {
  const folder = options.migrationsFolder ?? defaultMigrationsFolder();
  const configDir = options.configDir ?? join(defaultMigrationsFolder(), "..", ".ci");
  const acceptedFile = JSON.parse(readFileSync(join(configDir, "squawk-accepted.json"), "utf8")) as AcceptedFile;
  const migrations = readMigrations(folder);
  const production = migrations.findIndex((m) => m.name === acceptedFile.production);
  const linted = migrations.filter((m, i) =>
    options.only ? options.only.includes(m.name) : options.all || i > production,
  );
  const reported = [
    ...runSquawk(
      folder,
      configDir,
      linted.filter((m) => m.transactional),
      true,
    ),
    ...runSquawk(
      folder,
      configDir,
      linted.filter((m) => !m.transactional),
      false,
    ),
  ];
  const key = (f: { migration: string; line: number; rule: string }) => `${f.migration}:${f.line}:${f.rule}`;
  const acceptedKeys = new Set(acceptedFile.accepted.map(key));
  const reportedKeys = new Set(reported.map(key));
  const names = new Set(linted.map((m) => m.name));
  return {
    linted: linted.map((m) => m.name),
    findings: reported.filter((f) => !acceptedKeys.has(key(f))),
    accepted: reported.filter((f) => acceptedKeys.has(key(f))).length,
    stale: acceptedFile.accepted.filter((a) => names.has(a.migration) && !reportedKeys.has(key(a))),
  };
}

/** A finding on one line, as a compiler would print it, with squawk's help and rule page. */
export function formatFinding(f: LintFinding): string {
  return `drizzle/${f.migration}.sql:${f.line}: ${f.rule}: ${f.message}${f.help ? `\n    help: ${f.help}` : ""}\n    see https://squawkhq.com/docs/${f.rule}`;
}

interface SquawkJson {
  file: string;
  line: number;
  rule_name: string;
  message: string;
  help?: string | null;
}

function runSquawk(
  folder: string,
  configDir: string,
  migrations: MigrationFile[],
  inTransaction: boolean,
): LintFinding[] {
  if (migrations.length === 0) return [];
  const args = [
    squawkBin(),
    "--config",
    join(configDir, "squawk.toml"),
    inTransaction ? "--assume-in-transaction" : "--no-assume-in-transaction",
    "--reporter",
    "json",
    ...migrations.map((m) => join(folder, `${m.name}.sql`)),
  ];
  const run = spawnSync(process.execPath, args, { encoding: "utf8" });
  // squawk exits 1 when it found something; its JSON is on stdout either way.
  if (run.error || (run.status !== 0 && run.status !== 1) || !run.stdout.trim().startsWith("[")) {
    throw new ConfigurationError(`squawk failed (exit ${run.status}): ${run.error?.message ?? run.stderr.trim()}`);
  }
  return (JSON.parse(run.stdout) as SquawkJson[]).map((r) => ({
    migration: basename(r.file, ".sql"),
    line: r.line + 1, // squawk's JSON counts lines from 0
    rule: r.rule_name,
    message: r.message,
    help: r.help ?? undefined,
  }));
}

function squawkBin(): string {
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve("squawk-cli/package.json")), "js", "bin", "squawk");
  } catch {
    throw new ConfigurationError(
      "squawk-cli is not installed: it is a devDependency of @sensa-learn/db (npm ci in the repository)",
    );
  }
}
