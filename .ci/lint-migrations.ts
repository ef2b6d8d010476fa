/**
 * CI: squawk on every migration newer than the last one applied in production
 * (.ci/squawk-accepted.json), failing with squawk's message on any finding not accepted there.
 *   npx tsx .ci/lint-migrations.ts [--all] [--migrations-folder <dir>]
 */
import { parseArgs } from "node:util";
import { formatFinding, lintMigrations } from "../src/migrations/lint.js";

const { values } = parseArgs({
  options: { all: { type: "boolean", default: false }, "migrations-folder": { type: "string" } },
});
const result = lintMigrations({ all: values.all, migrationsFolder: values["migrations-folder"] });
for (const f of result.findings) console.log(formatFinding(f));
for (const s of result.stale)
  console.log(
    `note: accepted finding no longer reported, remove it from .ci/squawk-accepted.json: ${s.migration}:${s.line} ${s.rule}`,
  );
console.log(
  `squawk: ${result.linted.length} migration(s) linted (${result.linted.join(", ") || "none newer than production"}), ${result.findings.length} finding(s) to fix, ${result.accepted} accepted`,
);
process.exitCode = result.findings.length > 0 ? 1 : 0;
