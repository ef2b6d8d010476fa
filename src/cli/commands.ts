import type { ParseArgsConfig } from "node:util";
import type { Database } from "../connection.js";
import { migrate } from "../migrations/migrate.js";
import { rollback } from "../migrations/rollback.js";
import { migrationStatus } from "../migrations/status.js";
import { verify, verifyAppliedChecksums } from "../migrations/verify.js";
import { openReference } from "./reference.js";

export interface CommandContext {
  db: Database;
  url: string | undefined;
  values: Record<string, string | boolean | undefined>;
  json: boolean;
}

export interface Command {
  summary: string;
  usage: string;
  options?: NonNullable<ParseArgsConfig["options"]>;
  /** Returns the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

const print = (ctx: CommandContext, data: unknown, text: string) => console.log(ctx.json ? JSON.stringify(data, null, 2) : text);

export const commands: Record<string, Command> = {
  migrate: {
    summary: "apply pending migrations (locked, atomic, checksum-verified)",
    usage: `Usage: sensa-db migrate [--url <url>] [--json]

Applies every pending migration of drizzle/ in one transaction, under an advisory lock so two
deploys migrating at once apply each migration once. Refuses if an applied migration's file was
edited (see sensa-db verify). Logs each migration in migrations_log.`,
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

Undoes the last applied migration by running drizzle/rollback/<name>.sql, removes it from
Drizzle's bookkeeping (so migrate applies it again) and logs it in migrations_log.
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
      const reference = await openReference(ctx.db, ctx.url, ctx.values["reference-url"] as string | undefined);
      try {
        const result = await verify(ctx.db, { reference: reference.db });
        const { extra, missing, changed } = result.drift;
        const text = result.clean
          ? `ok: checksums match and the schema is what the migrations build (up to ${result.lastApplied ?? "nothing"})`
          : [
              `drift from the migrations (up to ${result.lastApplied ?? "nothing"}):`,
              ...extra.map((e) => `  + extra:   ${e}`),
              ...missing.map((m) => `  - missing: ${m}`),
              ...changed.map((c) => `  ~ changed: ${c}`),
            ].join("\n");
        print(ctx, { ok: result.clean, ...result }, text);
        return result.clean ? 0 : 1;
      } finally {
        await reference.dispose();
      }
    },
  },
};
