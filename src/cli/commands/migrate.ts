import { migrate } from "../../migrations/migrate.js";
import { defineCommand, print } from "../command.js";

/** `sensa-db migrate`: the library's `migrate` (migrations/migrate.ts). */
export const migrateCommand = defineCommand({
  name: "migrate",
  summary: "apply pending migrations (locked, atomic, checksum-verified)",
  usage: `Usage: sensa-db migrate [--url <url>] [--json]

Applies every pending migration of drizzle/ in one transaction (a migration marked
"-- sensa-db: no-transaction", e.g. CREATE INDEX CONCURRENTLY, runs alone, statement by
statement), under an advisory lock so two deploys migrating at once apply each migration once.
A statement waiting for a table lock gives up after 5 s and the attempt is retried from scratch
(10 times, pausing 1 s and doubling). Refuses if an applied migration's file was edited (see
sensa-db verify) or if the server is a read replica. Logs each migration in migrations_log, and
re-applies the database's privileges (no CONNECT or TEMPORARY for PUBLIC) on every run.`,
  options: {},
  async handler(ctx) {
    const result = await migrate(ctx.db, { appliedVia: "sensa-db" });
    const text = result.applied.length
      ? `applied ${result.applied.length} migration(s) in ${Math.round(result.durationMs)} ms:\n${result.applied.map((m) => `  + ${m}`).join("\n")}`
      : "nothing to do: every migration is applied";
    print(ctx, { ok: true, ...result }, text);
    return 0;
  },
});
