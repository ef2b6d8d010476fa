import type { ParseArgsConfig } from "node:util";
import type { ConnectionTarget, Database } from "../connection.js";
import { migrate } from "../migrations/migrate.js";
import { rollback } from "../migrations/rollback.js";
import { migrationStatus } from "../migrations/status.js";
import { verify, verifyAppliedChecksums } from "../migrations/verify.js";
import { seed } from "../seed/index.js";
import { ensureAppLogin } from "../app-login.js";
import { runDemo } from "./demo.js";
import { openReference } from "./reference.js";
import { inspectCommand, maintainCommand } from "./inspect.js";
import { baselineCommand } from "./baseline.js";

export interface CommandContext {
  db: Database;
  /** The server `db` is on (as resolved from --url, DATABASE_URL or PG*); undefined when embedded. */
  target: ConnectionTarget | undefined;
  values: Record<string, string | boolean | undefined>;
  /** Arguments after the command that are not options (only for commands that take them). */
  positionals: string[];
  json: boolean;
}

export interface Command {
  summary: string;
  usage: string;
  options?: NonNullable<ParseArgsConfig["options"]>;
  /** Without a url or --dir, use a throwaway in-memory embedded database instead of ./.sensa-db. */
  inMemoryByDefault?: boolean;
  /** Takes arguments that are not options, e.g. `sensa-db inspect health`. */
  positionals?: boolean;
  /** Returns the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

const print = (ctx: CommandContext, data: unknown, text: string) => console.log(ctx.json ? JSON.stringify(data, null, 2) : text);

const numberOption = (ctx: CommandContext, name: string) => (ctx.values[name] === undefined ? undefined : Number(ctx.values[name]));

export const commands: Record<string, Command> = {
  migrate: {
    summary: "apply pending migrations (locked, atomic, checksum-verified)",
    usage: `Usage: sensa-db migrate [--url <url>] [--json]

Applies every pending migration of drizzle/ in one transaction (a migration marked
"-- sensa-db: no-transaction", e.g. CREATE INDEX CONCURRENTLY, runs alone, statement by
statement), under an advisory lock so two deploys migrating at once apply each migration once.
A statement waiting for a table lock gives up after 5 s and the attempt is retried from scratch
(10 times, pausing 1 s and doubling). Refuses if an applied migration's file was edited (see
sensa-db verify) or if the server is a read replica. Logs each migration in migrations_log, and
re-applies the database's privileges (no CONNECT or TEMPORARY for PUBLIC) on every run.`,
    async run(ctx) {
      const result = await migrate(ctx.db, { appliedVia: "sensa-db" });
      const text = result.applied.length
        ? `applied ${result.applied.length} migration(s) in ${Math.round(result.durationMs)} ms:\n${result.applied.map((m) => `  + ${m}`).join("\n")}`
        : "nothing to do: every migration is applied";
      print(ctx, { ok: true, ...result }, text);
      return 0;
    },
  },

  status: {
    summary: "list migrations, applied and pending, with dates",
    usage: `Usage: sensa-db status [--url <url>] [--json]

Lists every migration of drizzle/ with its state (applied, pending, or changed since applied)
and when it was applied. Exit code 0 even with pending migrations; 1 if one has changed.`,
    async run(ctx) {
      const status = await migrationStatus(ctx.db);
      const lines = status.map((s) => `  ${s.state === "applied" ? "✓" : s.state === "pending" ? "·" : "✗"} ${s.name.padEnd(28)} ${s.state}${s.appliedAt ? `  ${s.appliedAt.toISOString()}` : ""}`);
      const pending = status.filter((s) => s.state === "pending").length;
      print(ctx, { ok: true, migrations: status }, `${lines.join("\n")}\n${status.length - pending} applied, ${pending} pending`);
      return status.some((s) => s.state === "changed since applied") ? 1 : 0;
    },
  },

  rollback: {
    summary: "undo the last migration (or down to --to), in one transaction",
    usage: `Usage: sensa-db rollback [--to <name>] [--dry-run] [--force] [--url <url>] [--json]

Undoes the last applied migration by running drizzle/rollback/<name>.sql, in one transaction,
removes it from Drizzle's bookkeeping (so migrate applies it again) and logs it in migrations_log.
The plan is made before waiting for the migration lock and checked once it is held: a second
rollback started at the same time stops (exit 1, nothing changed) instead of undoing another.
  --to <name>  undo every migration applied after <name>; <name> stays applied
  --dry-run    print the plan, change nothing
  --force      allow a rollback that drops tables or columns holding rows`,
    options: { to: { type: "string" }, "dry-run": { type: "boolean", default: false }, force: { type: "boolean", default: false } },
    async run(ctx) {
      const result = await rollback(ctx.db, {
        to: ctx.values.to as string | undefined,
        dryRun: Boolean(ctx.values["dry-run"]),
        force: Boolean(ctx.values.force),
        appliedVia: "sensa-db",
      });
      const verb = result.applied ? "rolled back" : "would roll back";
      const text = result.steps.length
        ? `${verb} ${result.steps.length} migration(s):\n${result.steps
            .map((s) => `  - ${s.migration} (${s.file}, ${s.statements.length} statements)${s.destroys.length ? `\n      drops data: ${s.destroys.join(", ")}` : ""}`)
            .join("\n")}`
        : "nothing to roll back";
      print(ctx, { ok: true, ...result }, text);
      return 0;
    },
  },

  verify: {
    summary: "check applied migrations' checksums and the live schema for drift",
    usage: `Usage: sensa-db verify [--reference-url <url>] [--url <url>] [--json]

Fails (exit 1) when an applied migration's file has been edited since, naming it, or when the
live schema differs from what the migrations build: objects extra, missing or changed.
The expected schema is built in a scratch database on the same server (or in memory for an
embedded database); --reference-url gives an empty database to use instead.`,
    options: { "reference-url": { type: "string" } },
    async run(ctx) {
      await verifyAppliedChecksums(ctx.db); // needs no reference database, so it fails first
      const reference = await openReference(ctx.db, ctx.target, ctx.values["reference-url"] as string | undefined);
      try {
        const result = await verify(ctx.db, { reference: reference.db });
        const { extra, missing, changed } = result.drift;
        const text = result.clean
          ? `ok: checksums match and the schema is what the migrations build (up to ${result.lastApplied ?? "nothing"}, built in ${reference.description})`
          : [
              `drift from the migrations (up to ${result.lastApplied ?? "nothing"}):`,
              ...extra.map((e) => `  + extra:   ${e}`),
              ...missing.map((m) => `  - missing: ${m}`),
              ...changed.map((c) => `  ~ changed: ${c}`),
            ].join("\n");
        print(ctx, { ok: result.clean, ...result, reference: reference.description }, text);
        return result.clean ? 0 : 1;
      } finally {
        await reference.dispose();
      }
    },
  },

  seed: {
    summary: "fill the database with realistic, deterministic data",
    usage: `Usage: sensa-db seed [options] [--url <url>] [--json]

Writes users with courses, documents, chapters, keywords (768-dim embeddings around subject
centres), relationships, annotations and progress. The same --seed gives the same data.
  --seed <n>                      random seed (default 42)
  --users <n>                     users (default 5)
  --courses-per-user <n>          (default 2)
  --documents-per-course <n>      (default 3)
  --chapters-per-document <n>     (default 4)
  --keywords-per-chapter <n>      (default 8)
  --relationships-per-chapter <n> (default 4)
  --annotations-per-user <n>      (default 3)
  --progress <0..1>               share of chapters with progress (default 0.5)
  --defer-indexes <auto|yes|no>   rebuild HNSW indexes after the load (default auto: >1,000 embeddings)`,
    options: {
      seed: { type: "string" },
      users: { type: "string" },
      "courses-per-user": { type: "string" },
      "documents-per-course": { type: "string" },
      "chapters-per-document": { type: "string" },
      "keywords-per-chapter": { type: "string" },
      "relationships-per-chapter": { type: "string" },
      "annotations-per-user": { type: "string" },
      progress: { type: "string" },
      "defer-indexes": { type: "string" },
    },
    async run(ctx) {
      const defer = ctx.values["defer-indexes"];
      const options = {
        seed: numberOption(ctx, "seed"),
        users: numberOption(ctx, "users"),
        coursesPerUser: numberOption(ctx, "courses-per-user"),
        documentsPerCourse: numberOption(ctx, "documents-per-course"),
        chaptersPerDocument: numberOption(ctx, "chapters-per-document"),
        keywordsPerChapter: numberOption(ctx, "keywords-per-chapter"),
        relationshipsPerChapter: numberOption(ctx, "relationships-per-chapter"),
        annotationsPerUser: numberOption(ctx, "annotations-per-user"),
        progress: numberOption(ctx, "progress"),
        deferIndexes: defer === undefined || defer === "auto" ? ("auto" as const) : defer === "yes",
      };
      const bar = !ctx.json && process.stderr.isTTY ? progressBar() : undefined;
      const result = await seed(ctx.db, options, bar);
      if (bar) process.stderr.write("\n");
      const lines = Object.entries(result.rows).map(([t, n]) => `  ${t.padEnd(20)} ${String(n).padStart(10)}`);
      print(
        ctx,
        { ok: true, ...result, userIds: undefined },
        `${lines.join("\n")}\n  ${"total".padEnd(20)} ${String(result.totalRows).padStart(10)} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rowsPerSecond)} rows/s${result.indexSeconds ? `, HNSW rebuild ${result.indexSeconds.toFixed(1)} s` : ""})`,
      );
      return 0;
    },
  },

  "app-login": {
    summary: "create or update the login app services use (a member of sensa_app)",
    usage: `Usage: sensa-db app-login [--iam] [--url <url>]

Creates the role named by APP_DB_USER with the password in APP_DB_PASSWORD (or updates its
password), as a LOGIN member of sensa_app only: subject to row-level security, unable to SET ROLE
admin_role, allowed to CONNECT to this database only, with statement, lock and idle-in-transaction
timeouts. Refuses (exit 1) an existing role that could do more. Run it as the owner after migrate;
the infra's migration task does.
  --iam   also grant rds_iam (Amazon RDS), for IAM token sign-in; APP_DB_PASSWORD may be omitted`,
    options: { iam: { type: "boolean", default: false } },
    async run(ctx) {
      const result = await ensureAppLogin(ctx.db, {
        user: process.env.APP_DB_USER,
        password: process.env.APP_DB_PASSWORD,
        iam: Boolean(ctx.values.iam),
      });
      print(ctx, { ok: true, ...result }, `${result.created ? "created" : "updated"} login ${result.user}, a member of sensa_app`);
      return 0;
    },
  },

  demo: {
    summary: "migrate, seed a little, and show every function and RLS at work",
    inMemoryByDefault: true,
    usage: `Usage: sensa-db demo [--url <url>]

Runs on an in-memory embedded database unless --url, DATABASE_URL or --dir is given. On a
server it removes the users it created (and everything they own) at the end.`,
    async run(ctx) {
      await runDemo(ctx.db);
      return 0;
    },
  },

  inspect: inspectCommand,
  maintain: maintainCommand,
  baseline: baselineCommand,
};

function progressBar() {
  return (done: number, total: number) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r  [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} rows`);
  };
}
