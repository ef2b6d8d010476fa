import { closeDb, resolveDb, type ResolvedDb } from "../connection.js";
import { processIo, type CliIo, type Command, type CommonOptions, type ParsedCommand } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { describeFailure } from "./failure.js";

const USAGE = `Usage: sensa-db <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join("\n")}

Options for every command:
  --url <url>   PostgreSQL connection string (default: DATABASE_URL, else PGHOST, PGUSER,
                PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT… as libpq reads them)
  --connect-timeout <s>  give up connecting after this many seconds (default: PGCONNECT_TIMEOUT, else 10)
  --dir <path>  embedded database directory when no server is configured (default: ./.sensa-db)
  --json        machine-readable output on stdout
  -h, --help    help for a command

Exit code 0 only on success.`;

/**
 * `sensa-db <command> [options]`: finds the command, parses its options (exit 2 with its usage
 * when they are wrong), prints its usage for --help, else connects as the common options say and
 * runs it. Returns the exit code; an error becomes one line on stderr (and a JSON document on
 * stdout with --json), never a stack.
 *
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(USAGE);
    return name ? 0 : 1;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`sensa-db: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let parsed: ParsedCommand;
  try {
    parsed = command.parse(args);
  } catch (error) {
    io.stderr(`sensa-db ${name}: ${(error as Error).message}\n\n${command.usage}`);
    return 2;
  }
  if (parsed.common.help) {
    io.stdout(command.usage);
    return 0;
  }
  return connectAndRun(command, parsed, io);
}

async function connectAndRun(command: Command, parsed: ParsedCommand, io: CliIo): Promise<number> {
  const { common } = parsed;
  let opened: ResolvedDb | undefined;
  try {
    const database = io.database ?? (opened = await resolveDb(connectionOptions(command, common, io)));
    if (!common.json) io.stderr(`sensa-db: using ${database.description}`);
    return await parsed.run({
      db: database.db,
      target: database.target,
      json: common.json,
      positionals: parsed.positionals,
      io,
    });
  } catch (error) {
    const failure = describeFailure(error);
    if (common.json) io.stdout(JSON.stringify({ ok: false, error: failure }));
    io.stderr(`sensa-db ${command.name}: ${failure.message}`);
    return 1;
  } finally {
    if (opened) await closeDb(opened.db);
  }
}

function connectionOptions(command: Command, common: CommonOptions, io: CliIo): Parameters<typeof resolveDb>[0] {
  const timeout = common["connect-timeout"] === undefined ? undefined : Number(common["connect-timeout"]) * 1000;
  return {
    url: common.url,
    embeddedDir: common.dir ?? (command.inMemoryByDefault ? "memory://" : undefined),
    env: io.env,
    applicationName: `sensa-db ${command.name}`,
    pool: timeout === undefined ? undefined : { connectionTimeoutMillis: timeout },
  };
}
