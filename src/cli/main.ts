#!/usr/bin/env node
/**
 * sensa-db: migrate, inspect and check a Sensa Learn database.
 * Uses --url or DATABASE_URL, else an embedded database in ./.sensa-db (never in production).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closeDb, resolveDb, type ResolvedDb } from "../connection.js";
import { SensaDbError } from "../errors.js";
import { pgMessage } from "../migrations/session.js";
import { commands, type Command } from "./commands.js";

const COMMON: NonNullable<ParseArgsConfig["options"]> = {
  url: { type: "string" },
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
  --url <url>   PostgreSQL connection string (default: DATABASE_URL)
  --dir <path>  embedded database directory when no url is given (default: ./.sensa-db)
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
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, allowPositionals: false, strict: true });
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
    resolved = await resolveDb({ url: values.url as string | undefined, embeddedDir: dir, env: process.env });
    if (!values.json) console.error(`sensa-db: using ${resolved.description}`);
    return await command.run({ db: resolved.db, url: (values.url as string | undefined) ?? process.env.DATABASE_URL, values, json: Boolean(values.json) });
  } catch (error) {
    if (values.json) console.log(JSON.stringify({ ok: false, error: describe(error) }));
    console.error(`sensa-db ${name}: ${error instanceof SensaDbError ? error.message : pgMessage(error)}`);
    return 1;
  } finally {
    if (resolved) await closeDb(resolved.db);
  }
}

function describe(error: unknown) {
  return error instanceof SensaDbError ? { code: error.code, message: error.message } : { code: "UNEXPECTED", message: pgMessage(error) };
}

process.exitCode = await main(process.argv.slice(2));
