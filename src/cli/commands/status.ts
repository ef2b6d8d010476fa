import { migrationStatus, type MigrationStatus } from "../../migrations/status.js";
import { defineCommand, print } from "../command.js";

const MARK: Record<MigrationStatus["state"], string> = { applied: "✓", pending: "·", "changed since applied": "✗" };

/** `sensa-db status`: the library's `migrationStatus` (migrations/status.ts). */
export const statusCommand = defineCommand({
  name: "status",
  summary: "list migrations, applied and pending, with dates",
  usage: `Usage: sensa-db status [--url <url>] [--json]

Lists every migration of drizzle/ with its state (applied, pending, or changed since applied)
and when it was applied. Exit code 0 even with pending migrations; 1 if one has changed.`,
  options: {},
  async handler(ctx) {
    const status = await migrationStatus(ctx.db);
    const lines = status.map(
      (s) => `  ${MARK[s.state]} ${s.name.padEnd(28)} ${s.state}${s.appliedAt ? `  ${s.appliedAt.toISOString()}` : ""}`,
    );
    const pending = status.filter((s) => s.state === "pending").length;
    print(
      ctx,
      { ok: true, migrations: status },
      `${lines.join("\n")}\n${status.length - pending} applied, ${pending} pending`,
    );
    return status.some((s) => s.state === "changed since applied") ? 1 : 0;
  },
});
