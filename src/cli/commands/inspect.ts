import { defineCommand } from "../command.js";
import { INSPECT_OPTIONS, numberArg, REPORTS } from "../inspect/reports.js";

const reportList = Object.entries(REPORTS)
  .map(([name, r]) => `  ${name.padEnd(15)}${r.summary}\n  ${"".padEnd(15)}needs: ${r.needs}`)
  .join("\n");

const usage = `Usage: sensa-db inspect <report> [--limit <n>] [--url <url>] [--json]
       (also: sensa-db inspect --report <report> …)

Reports (each runs as the database owner, no superuser needed):
${reportList}

Options:
  --limit <n>            at most n rows (default 20)
  --order <by>           slow-queries: mean (default), total or calls
  --min-duration <s>     long-running: only queries running at least this long
  --terminate <pid>      long-running: end that session (asks first; --yes to skip the question)
  --yes                  confirm --terminate without asking
  --sample <n>           recall: stored embeddings used as queries per index (default 100)
  --time-budget <s>      recall: stop after this long in all (default 60)
  --ef-search <n>        recall: measure at this ef_search instead of the one in force
  --index <name>         recall: only this index (or table)
  --min-recall <r>       recall: exit 1 below this (default 0.95)

Exit code 1 when health finds something to fix, recall is below --min-recall, connections are
above the alarm's 80% of max_connections, or a report cannot run here (the message says what it
needs); 2 for an unknown report.`;

/** `sensa-db inspect <report>`: one of the library's inspect reports (src/inspect/), as a table or JSON. */
export const inspectCommand = defineCommand({
  name: "inspect",
  summary: "reports for operators: sizes, indexes, slow queries, locks, health, HNSW recall…",
  positionals: true,
  usage,
  options: INSPECT_OPTIONS,
  async handler(ctx, options) {
    const name = ctx.positionals[0] ?? options.report;
    const spec = name === undefined ? undefined : REPORTS[name];
    if (!spec) {
      ctx.io.stderr(
        `${name === undefined ? "sensa-db inspect: which report?" : `sensa-db inspect: unknown report "${name}"`}\n\n${usage}`,
      );
      return 2;
    }
    const out = await spec.run(ctx.db, { limit: numberArg(options, "limit"), values: options, json: ctx.json });
    ctx.io.stdout(ctx.json ? JSON.stringify({ report: name, ...out.json }, null, 2) : out.text);
    return out.exitCode;
  },
});
