import { rollback, type RollbackStep } from "../../migrations/rollback.js";
import { defineCommand, print } from "../command.js";

/** `sensa-db rollback`: the library's `rollback` (migrations/rollback.ts). */
export const rollbackCommand = defineCommand({
  name: "rollback",
  summary: "undo the last migration (or down to --to), in one transaction",
  usage: `Usage: sensa-db rollback [--to <name>] [--dry-run] [--force] [--url <url>] [--json]

Undoes the last applied migration by running drizzle/rollback/<name>.sql, in one transaction,
removes it from Drizzle's bookkeeping (so migrate applies it again) and logs it in migrations_log.
The plan is made before waiting for the migration lock and checked once it is held: a second
rollback started at the same time stops (exit 1, nothing changed) instead of undoing another.
  --to <name>  undo every migration applied after <name>; <name> stays applied
  --dry-run    print the plan, change nothing
  --force      allow a rollback that drops tables or columns holding rows`,
  options: {
    to: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    force: { type: "boolean", default: false },
  },
  async handler(ctx, options) {
    const result = await rollback(ctx.db, {
      to: options.to,
      dryRun: options["dry-run"],
      force: options.force,
      appliedVia: "sensa-db",
    });
    const verb = result.applied ? "rolled back" : "would roll back";
    const text = result.steps.length
      ? `${verb} ${result.steps.length} migration(s):\n${result.steps.map(describeStep).join("\n")}`
      : "nothing to roll back";
    print(ctx, { ok: true, ...result }, text);
    return 0;
  },
});

const describeStep = (s: RollbackStep) =>
  `  - ${s.migration} (${s.file}, ${s.statements.length} statements)${s.destroys.length ? `\n      drops data: ${s.destroys.join(", ")}` : ""}`;
