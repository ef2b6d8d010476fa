#!/usr/bin/env node
/**
 * sensa-db: migrate, inspect and check a Sensa Learn database.
 * Uses --url, DATABASE_URL or libpq's PG* variables (resolved as createDb resolves them), else an
 * embedded database in ./.sensa-db (never in production).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closeDb, resolveDb, type ResolvedDb } from "../connection.js";
import { isConnectionLost } from "../db-errors.js";
import { SensaDbError } from "../errors.js";
import { pgMessage } from "../migrations/session.js";
import { commands, type Command } from "./commands.js";

const COMMON: NonNullable<ParseArgsConfig["options"]> = {
  url: { type: "string" },
  "connect-timeout": { type: "string" },
  dir: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};

const USAGE = `Usage: sensa-db <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join("\n")}

Options for every command:
  --url <url>   PostgreSQL connection string (default: DATABASE_URL, else PGHOST, PGUSER,
                PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT… as libpq reads them)
  --connect-timeout <s>  give up connecting after this many seconds (default: PGCONNECT_TIMEOUT, else 10)
  --dir <path>  embedded database directory when no server is configured (default: ./.sensa-db)
  --json        machine-readable output on stdout
  -h, --help    help for a command

Exit code 0 only on success.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  const command: Command | undefined = commands[name];
  if (!command) {
    console.error(`sensa-db: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, allowPositionals: command.positionals ?? false, strict: true });
  } catch (error) {
    console.error(`sensa-db ${name}: ${(error as Error).message}\n\n${command.usage}`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    console.log(command.usage);
    return 0;
  }
  let resolved: ResolvedDb | undefined;
  try {
    const dir = (values.dir as string | undefined) ?? (command.inMemoryByDefault ? "memory://" : undefined);
    const timeout = values["connect-timeout"] === undefined ? undefined : Number(values["connect-timeout"]) * 1000;
    resolved = await resolveDb({
      url: values.url as string | undefined,
      embeddedDir: dir,
      env: process.env,
      applicationName: `sensa-db ${name}`,
      pool: timeout === undefined ? undefined : { connectionTimeoutMillis: timeout },
    });
    if (!values.json) console.error(`sensa-db: using ${resolved.description}`);
    return await command.run({ db: resolved.db, target: resolved.target, values, positionals: parsed.positionals, json: Boolean(values.json) });
  } catch (error) {
    const failure = describe(error);
    if (values.json) console.log(JSON.stringify({ ok: false, error: failure }));
    console.error(`sensa-db ${name}: ${failure.message}`);
    return 1;
  } finally {
    if (resolved) await closeDb(resolved.db);
  }
}

/** One message for a person (no stack): ours when we threw one, else what PostgreSQL said. */
function describe(error: unknown): { code: string; message: string } {
  if (isConnectionLost(error)) {
    // What follows a killed session (a failed ROLLBACK, a failed unlock) only hides the cause.
    return {
      code: "CONNECTION_LOST",
      message: `the database connection was lost (${pgMessage(error)}). An open transaction was rolled back by the server; run "sensa-db status", then the command again.`,
    };
  }
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof SensaDbError) return { code: e.code, message: e.message };
  }
  return { code: "UNEXPECTED", message: pgMessage(error) };
}

process.exitCode = await main(process.argv.slice(2));
