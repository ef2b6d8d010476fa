import { maintain } from "../../inspect/index.js";
import { defineCommand } from "../command.js";

/** `sensa-db maintain`: the library's `maintain` (inspect/maintain.ts), printing each step. */
export const maintainCommand = defineCommand({
  name: "maintain",
  summary: "VACUUM (ANALYZE) the platform tables, REINDEX CONCURRENTLY invalid indexes",
  usage: `Usage: sensa-db maintain [--full --yes] [--url <url>] [--json]

Safe while the app runs: VACUUM (ANALYZE) of each platform table (no lock that blocks reads or
writes), then REINDEX INDEX CONCURRENTLY of each INVALID index. Each step is printed with its
duration. Exit code 1 if a step failed (the others still ran).
  --full   VACUUM (FULL, ANALYZE) instead: gives disk space back, but LOCKS EACH TABLE against
           all reads and writes while it is rewritten (minutes on a large table). Needs --yes.`,
  options: { full: { type: "boolean", default: false }, yes: { type: "boolean", default: false } },
  async handler(ctx, { full, yes }) {
    if (full) {
      ctx.io.stderr(
        "warning: VACUUM FULL holds an ACCESS EXCLUSIVE lock on each table while it rewrites it: the app can neither read nor write that table meanwhile.",
      );
      if (!yes) {
        ctx.io.stderr("refusing without --yes");
        if (ctx.json)
          ctx.io.stdout(JSON.stringify({ ok: false, error: { code: "NOT_CONFIRMED", message: "--full needs --yes" } }));
        return 1;
      }
    }
    const result = await maintain(ctx.db, { full, onLog: ctx.json ? undefined : (line) => ctx.io.stdout(line) });
    if (ctx.json) ctx.io.stdout(JSON.stringify(result, null, 2));
    else
      ctx.io.stdout(
        result.ok
          ? `done: ${result.steps.length} step(s)`
          : `${result.steps.filter((s) => !s.ok).length} step(s) failed`,
      );
    return result.ok ? 0 : 1;
  },
});
