import { parseArgs } from "node:util";
import type { ConnectionTarget, Database, ResolvedDb } from "../connection.js";

/** How one option is written on the command line, as node:util parseArgs takes it. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  default?: string | boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean" ? boolean : string;

/** The parsed values of `O`: an option with a default is always there, the others may be missing. */
export type OptionValues<O extends OptionSpecs> = {
  -readonly [K in keyof O]: O[K] extends { default: string | boolean } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

/** Options every command takes; the dispatcher uses them to connect and to choose the output. */
export const COMMON_OPTIONS = {
  url: { type: "string" },
  "connect-timeout": { type: "string" },
  dir: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies OptionSpecs;

export type CommonOptions = OptionValues<typeof COMMON_OPTIONS>;

/** Where the CLI writes and what it reads: the process's, or a test's. */
export interface CliIo {
  /** One line (or several) to stdout, as console.log writes it. */
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /**
   * A database already open, used instead of the one --url, DATABASE_URL, PG* or --dir name;
   * its owner closes it. How a test runs commands in-process on the harness's database.
   */
  database?: ResolvedDb;
}

export const processIo: CliIo = {
  stdout: (text) => console.log(text),
  stderr: (text) => console.error(text),
  env: process.env,
};

/** What a command's handler gets besides its own options. */
export interface CommandContext {
  db: Database;
  /** The server `db` is on (as resolved from --url, DATABASE_URL or PG*); undefined when embedded. */
  target: ConnectionTarget | undefined;
  /** --json: one JSON document on stdout instead of text. */
  json: boolean;
  /** Arguments after the command that are not options (only for commands that take them). */
  positionals: string[];
  io: CliIo;
}

/**
 * One command, as its file declares it (graphile-migrate's shape: the library function does
 * the work, this module only turns arguments into its options and its result into output).
 */
export interface CommandModule<O extends OptionSpecs> {
  name: string;
  /** One line for `sensa-db --help`. */
  summary: string;
  /** The whole of `sensa-db <name> --help`. */
  usage: string;
  options: O;
  /** Takes arguments that are not options, e.g. `sensa-db inspect health`. */
  positionals?: boolean;
  /** Without a url or --dir, use a throwaway in-memory embedded database instead of ./.sensa-db. */
  inMemoryByDefault?: boolean;
  /** Does the command; returns the exit code. */
  handler(ctx: CommandContext, options: OptionValues<O>): Promise<number>;
}

/** A command as the dispatcher sees it, whatever its options. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  inMemoryByDefault: boolean;
  /**
   * Parses the arguments after the command name (throws parseArgs's error on an unknown or
   * malformed option): the common options, and the handler bound to the command's own.
   */
  parse(args: string[]): ParsedCommand;
}

/** A command line parsed for one command, ready to run once connected. */
export interface ParsedCommand {
  common: CommonOptions;
  positionals: string[];
  run(ctx: CommandContext): Promise<number>;
}

/**
 * Declares a command; its handler gets its options typed from `options`.
 *
 * ```ts
 * export const rollbackCommand = defineCommand({
 *   name: "rollback", summary: "…", usage: "…",
 *   options: { force: { type: "boolean", default: false } },
 *   handler: async (ctx, { force }) => …,
 * });
 * ```
 */
export function defineCommand<const O extends OptionSpecs>(module: CommandModule<O>): Command {
  return {
    name: module.name,
    summary: module.summary,
    usage: module.usage,
    inMemoryByDefault: module.inMemoryByDefault ?? false,
    parse(args) {
      const options: OptionSpecs = { ...COMMON_OPTIONS, ...module.options };
      const parsed = parseArgs({ args, options, allowPositionals: module.positionals ?? false, strict: true });
      // The one cast of the CLI: parseArgs (strict) returned exactly the options of COMMON_OPTIONS
      // and O, defaults filled in, which is what these two types spell out.
      const values = parsed.values as CommonOptions & OptionValues<O>;
      return { common: values, positionals: parsed.positionals, run: (ctx) => module.handler(ctx, values) };
    },
  };
}

/** Writes `data` as JSON with --json, else `text`. */
export function print(ctx: CommandContext, data: unknown, text: string): void {
  ctx.io.stdout(ctx.json ? JSON.stringify(data, null, 2) : text);
}
