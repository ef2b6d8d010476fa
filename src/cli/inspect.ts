import { createInterface } from "node:readline/promises";
import type { Database } from "../connection.js";
import { ValidationError } from "../errors.js";
import {
  bloat,
  blocking,
  cacheHit,
  connections,
  describeBackend,
  estimateRecall,
  health,
  indexUsage,
  locks,
  longRunning,
  maintain,
  slowQueries,
  tableSizes,
  terminateBackend,
  unusedIndexes,
  vacuumStats,
  type SessionRow,
} from "../inspect/index.js";
import type { Command, CommandContext } from "./commands.js";

/** A column of a report's terminal table. */
interface Column<Row> {
  header: string;
  value(row: Row): string;
  /** Numbers align right. */
  right?: boolean;
}

/** What a report hands the printer: rows for the table, the JSON document, and the exit code. */
interface Output {
  json: Record<string, unknown>;
  text: string;
  exitCode: number;
}

interface ReportSpec {
  summary: string;
  /** What the connected role needs beyond connecting, shown in the help. */
  needs: string;
  run(db: Database, args: Args): Promise<Output>;
}

interface Args {
  limit: number | undefined;
  values: CommandContext["values"];
  json: boolean;
}

const NO_PRIVILEGE = "nothing beyond connecting";
const MONITOR = "pg_monitor (or pg_read_all_stats) to see other roles' queries; without it they are listed, hidden";

export const REPORTS: Record<string, ReportSpec> = {
  "table-sizes": {
    summary: "tables largest first: heap, TOAST (the embeddings), indexes, estimated rows",
    needs: NO_PRIVILEGE,
    run: async (db, a) =>
      table(await tableSizes(db, { limit: a.limit }), [
        { header: "table", value: (r) => qualified(r.schema, r.table) },
        { header: "total", value: (r) => bytes(r.totalBytes), right: true },
        { header: "heap", value: (r) => bytes(r.tableBytes), right: true },
        { header: "toast", value: (r) => bytes(r.toastBytes), right: true },
        { header: "indexes", value: (r) => bytes(r.indexBytes), right: true },
        { header: "rows (est.)", value: (r) => (r.estimatedRows === null ? "?" : count(r.estimatedRows)), right: true },
      ]),
  },
  "index-usage": {
    summary: "every index with its scans, least used first (the spec's query)",
    needs: NO_PRIVILEGE,
    run: async (db, a) =>
      table(await indexUsage(db, { limit: a.limit }), [
        { header: "index", value: (r) => r.index },
        { header: "table", value: (r) => qualified(r.schema, r.table) },
        { header: "scans", value: (r) => count(r.scans), right: true },
        { header: "tuples read", value: (r) => count(r.tuplesRead), right: true },
        { header: "fetched", value: (r) => count(r.tuplesFetched), right: true },
        { header: "size", value: (r) => bytes(r.bytes), right: true },
        { header: "table seq scans", value: (r) => count(r.tableSeqScans), right: true },
      ]),
  },
  "unused-indexes": {
    summary: "indexes never scanned (not unique, not a constraint's), largest first",
    needs: NO_PRIVILEGE,
    run: async (db, a) =>
      table(await unusedIndexes(db, { limit: a.limit }), [
        { header: "index", value: (r) => r.index },
        { header: "table", value: (r) => qualified(r.schema, r.table) },
        { header: "size", value: (r) => bytes(r.bytes), right: true },
        { header: "in schema", value: (r) => (r.declaredInSchema ? "yes" : "") },
        { header: "definition", value: (r) => clip(r.definition, 70) },
      ]),
  },
  "slow-queries": {
    summary: "statements by mean time (--order total|calls) from pg_stat_statements",
    needs: `the pg_stat_statements extension (in shared_preload_libraries, then CREATE EXTENSION); ${MONITOR}`,
    run: async (db, a) => {
      const order = a.values.order as string | undefined;
      if (order !== undefined && order !== "mean" && order !== "total" && order !== "calls") {
        throw new ValidationError(`--order must be mean, total or calls, got ${order}`, [{ path: "order", message: "mean, total or calls" }]);
      }
      return table(await slowQueries(db, { limit: a.limit, orderBy: order }), [
        { header: "calls", value: (r) => count(r.calls), right: true },
        { header: "mean", value: (r) => duration(r.meanMs), right: true },
        { header: "max", value: (r) => duration(r.maxMs), right: true },
        { header: "total", value: (r) => duration(r.totalMs), right: true },
        { header: "rows", value: (r) => count(r.rows), right: true },
        { header: "cache hit", value: (r) => ratio(r.cacheHitRatio), right: true },
        { header: "role", value: (r) => r.role ?? "?" },
        { header: "query", value: (r) => clip(r.query, 80) },
      ]);
    },
  },
  "long-running": {
    summary: "non-idle sessions, longest first (--min-duration <s>; --terminate <pid> [--yes] ends one)",
    needs: `${MONITOR}; --terminate: the session's own role, or pg_signal_backend`,
    run: async (db, a) => {
      if (a.values.terminate !== undefined) return terminate(db, a);
      const min = numberArg(a.values, "min-duration");
      return table(await longRunning(db, { limit: a.limit, minDurationMs: min === undefined ? undefined : min * 1000 }), sessionColumns);
    },
  },
  locks: {
    summary: "locks waited for, then relation locks held in this database, with holder and age",
    needs: MONITOR,
    run: async (db, a) =>
      table(await locks(db, { limit: a.limit }), [
        { header: "pid", value: (r) => String(r.pid), right: true },
        { header: "role", value: (r) => r.role ?? "?" },
        { header: "target", value: (r) => r.target },
        { header: "mode", value: (r) => r.mode },
        { header: "granted", value: (r) => (r.granted ? "yes" : "WAITING") },
        { header: "age", value: (r) => duration(r.ageMs), right: true },
        { header: "query", value: (r) => clip(r.query ?? "", 60) },
      ]),
  },
  blocking: {
    summary: "who blocks whom, and for how long",
    needs: MONITOR,
    run: async (db, a) =>
      table(await blocking(db, { limit: a.limit }), [
        { header: "blocked pid", value: (r) => String(r.blockedPid), right: true },
        { header: "waiting", value: (r) => duration(r.waitingMs), right: true },
        { header: "blocked query", value: (r) => clip(r.blockedQuery ?? "", 45) },
        { header: "blocking pid", value: (r) => String(r.blockingPid), right: true },
        { header: "role", value: (r) => r.blockingRole ?? "?" },
        { header: "state", value: (r) => r.blockingState ?? "?" },
        { header: "its transaction", value: (r) => duration(r.blockingTransactionMs), right: true },
        { header: "blocking query", value: (r) => clip(r.blockingQuery ?? "", 45) },
      ]),
  },
  vacuum: {
    summary: "dead tuples and last (auto)vacuum / (auto)analyze per table",
    needs: NO_PRIVILEGE,
    run: async (db, a) =>
      table(await vacuumStats(db, { limit: a.limit }), [
        { header: "table", value: (r) => qualified(r.schema, r.table) },
        { header: "live", value: (r) => count(r.liveTuples), right: true },
        { header: "dead", value: (r) => count(r.deadTuples), right: true },
        { header: "autovacuum at", value: (r) => count(r.autovacuumThreshold), right: true },
        { header: "due", value: (r) => (r.autovacuumDue ? "YES" : "") },
        { header: "last vacuum", value: (r) => when(latest(r.lastVacuum, r.lastAutovacuum)) },
        { header: "last analyze", value: (r) => when(latest(r.lastAnalyze, r.lastAutoanalyze)) },
      ]),
  },
  "cache-hit": {
    summary: "shared-buffer hit ratio of tables, indexes and each table",
    needs: NO_PRIVILEGE,
    run: async (db, a) =>
      table(await cacheHit(db, { limit: a.limit }), [
        { header: "of", value: (r) => r.name },
        { header: "hit ratio", value: (r) => ratio(r.hitRatio), right: true },
        { header: "blocks hit", value: (r) => count(r.blocksHit), right: true },
        { header: "read from disk", value: (r) => count(r.blocksRead), right: true },
      ]),
  },
  bloat: {
    summary: "estimated bloat of tables and B-tree indexes, most wasted space first",
    needs: NO_PRIVILEGE,
    run: async (db, a) =>
      table(await bloat(db, { limit: a.limit }), [
        { header: "kind", value: (r) => r.kind },
        { header: "object", value: (r) => (r.kind === "index" ? `${r.object} on ${r.table}` : qualified(r.schema, r.table)) },
        { header: "bloat", value: (r) => `${r.bloatRatio.toFixed(1)}x`, right: true },
        { header: "wasted", value: (r) => bytes(r.wastedBytes), right: true },
      ]),
  },
  connections: {
    summary: "client connections per role and state, against max_connections and the alarm's 80%",
    needs: `${NO_PRIVILEGE} (states of other roles' sessions need pg_monitor)`,
    run: async (db, a) => {
      const report = await connections(db, { limit: a.limit });
      const out = table(report, [
        { header: "role", value: (r) => r.role ?? "(none)" },
        { header: "state", value: (r) => r.state },
        { header: "connections", value: (r) => count(r.count), right: true },
      ]);
      const line = `${report.total} of max_connections ${report.maxConnections} (${(report.usedRatio * 100).toFixed(0)}%; ${report.reservedConnections} reserved for superusers); the alarm fires above ${report.alarmAt}${report.alarm ? ": ABOVE THE ALARM LINE" : ""}`;
      return { json: { ...out.json, ...report }, text: `${out.text}\n${line}`, exitCode: report.alarm ? 1 : 0 };
    },
  },
  health: {
    summary: "RLS forced on every table, indexes valid, migrations checksummed and applied, replica lag (exit 1 if not)",
    needs: `${NO_PRIVILEGE} (replica lag details need pg_monitor)`,
    run: async (db) => {
      const report = await health(db);
      const lines = report.checks.flatMap((c) => [`${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.summary}`, ...c.problems.map((p) => `        - ${p}`)]);
      lines.push(report.ok ? "healthy" : `needs attention: ${report.checks.filter((c) => !c.ok).map((c) => c.name).join(", ")}`);
      return { json: { ...report }, text: lines.join("\n"), exitCode: report.ok ? 0 : 1 };
    },
  },
  recall: {
    summary: "live recall@10 of each HNSW index against an exact scan, at the ef_search in force (exit 1 below --min-recall)",
    needs: "membership in admin_role (the owner has it); reads every row of each sampled table once per query",
    run: async (db, a) => {
      const budget = numberArg(a.values, "time-budget");
      const report = await estimateRecall(db, {
        sample: numberArg(a.values, "sample"),
        timeBudgetMs: budget === undefined ? undefined : Math.round(budget * 1000),
        efSearch: numberArg(a.values, "ef-search"),
        only: a.values.index === undefined ? undefined : [String(a.values.index)],
        target: numberArg(a.values, "min-recall"),
      });
      const out = table(report, [
        { header: "index", value: (r) => r.index },
        { header: "embeddings", value: (r) => count(r.embeddings), right: true },
        { header: "queries", value: (r) => `${r.queries}${r.stoppedByTimeBudget ? " (time)" : ""}`, right: true },
        { header: "recall@10", value: (r) => (r.recallAt10 === null ? "-" : `${r.recallAt10.toFixed(3)}${r.belowTarget ? " LOW" : ""}`), right: true },
        { header: "ef_search", value: (r) => String(r.efSearch), right: true },
        { header: "from", value: (r) => r.efSearchSource },
        { header: "hnsw p50", value: (r) => duration(r.hnswP50Ms), right: true },
        { header: "exact p50", value: (r) => duration(r.exactP50Ms), right: true },
        { header: "note", value: (r) => r.note ?? "" },
      ]);
      const low = report.rows.some((r) => r.belowTarget);
      return { json: { ...out.json, ok: !low, target: report.target }, text: out.text, exitCode: low ? 1 : 0 };
    },
  },
};

const sessionColumns: Column<SessionRow>[] = [
  { header: "pid", value: (r) => String(r.pid), right: true },
  { header: "database", value: (r) => r.database ?? "" },
  { header: "role", value: (r) => r.role ?? "?" },
  { header: "state", value: (r) => r.state ?? "hidden" },
  { header: "running", value: (r) => duration(r.durationMs), right: true },
  { header: "transaction", value: (r) => duration(r.transactionMs), right: true },
  { header: "waiting on", value: (r) => r.waitEvent ?? "" },
  { header: "query", value: (r) => clip(r.query ?? "", 60) },
];

async function terminate(db: Database, a: Args): Promise<Output> {
  const pid = Number(a.values.terminate);
  const session = Number.isInteger(pid) ? await describeBackend(db, pid) : null;
  if (session && !a.values.yes) {
    const question = `terminate pid ${pid} (${session.role ?? "?"}, ${session.state ?? "state hidden"}, running ${duration(session.durationMs)}): ${clip(session.query ?? "", 100)}\nIts transaction is rolled back. Terminate? [y/N] `;
    if (!process.stdin.isTTY || a.json) {
      return { json: { ok: false, pid, terminated: false, reason: "not confirmed: pass --yes" }, text: `refusing to terminate pid ${pid} without confirmation: pass --yes`, exitCode: 1 };
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(question);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) return { json: { ok: false, pid, terminated: false, reason: "declined" }, text: "not terminated", exitCode: 1 };
  }
  const result = await terminateBackend(db, pid);
  const text = result.terminated ? `terminated pid ${pid}` : `did not terminate pid ${pid}: ${result.reason}`;
  return { json: { ok: result.terminated, ...result }, text, exitCode: result.terminated ? 0 : 1 };
}

function table<Row>(report: { rows: Row[]; notes: string[] }, columns: Column<Row>[]): Output {
  const cells = report.rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const body = report.rows.length ? [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)] : ["(no rows)"];
  const notes = report.notes.map((n) => `note: ${n}`);
  return { json: { ok: true, rows: report.rows, notes: report.notes }, text: [...body, ...notes].join("\n"), exitCode: 0 };
}

const qualified = (schema: string, name: string) => (schema === "public" ? name : `${schema}.${name}`);
const count = (n: number) => n.toLocaleString("en-US");
const clip = (s: string, width: number) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
};
const ratio = (r: number | null) => (r === null ? "-" : `${(r * 100).toFixed(2)}%`);
const when = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace("T", " ") : "never");
const latest = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

function bytes(n: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 10 * 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Math.round(value)} ${units[unit]}`;
}

function duration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(0)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function numberArg(values: CommandContext["values"], name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) {
    throw new ValidationError(`--${name} must be a number, got ${String(raw)}`, [{ path: name, message: "a number" }]);
  }
  return n;
}

const reportList = Object.entries(REPORTS)
  .map(([name, r]) => `  ${name.padEnd(15)}${r.summary}\n  ${"".padEnd(15)}needs: ${r.needs}`)
  .join("\n");

export const inspectCommand: Command = {
  summary: "reports for operators: sizes, indexes, slow queries, locks, health, HNSW recall…",
  positionals: true,
  usage: `Usage: sensa-db inspect <report> [--limit <n>] [--url <url>] [--json]
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
needs); 2 for an unknown report.`,
  options: {
    report: { type: "string" },
    limit: { type: "string" },
    order: { type: "string" },
    "min-duration": { type: "string" },
    terminate: { type: "string" },
    yes: { type: "boolean", default: false },
    sample: { type: "string" },
    "time-budget": { type: "string" },
    "ef-search": { type: "string" },
    index: { type: "string" },
    "min-recall": { type: "string" },
  },
  async run(ctx) {
    const name = ctx.positionals[0] ?? (ctx.values.report as string | undefined);
    const spec = name === undefined ? undefined : REPORTS[name];
    if (!spec) {
      console.error(`${name === undefined ? "sensa-db inspect: which report?" : `sensa-db inspect: unknown report "${name}"`}\n\n${inspectCommand.usage}`);
      return 2;
    }
    const out = await spec.run(ctx.db, { limit: numberArg(ctx.values, "limit"), values: ctx.values, json: ctx.json });
    console.log(ctx.json ? JSON.stringify({ report: name, ...out.json }, null, 2) : out.text);
    return out.exitCode;
  },
};

export const maintainCommand: Command = {
  summary: "VACUUM (ANALYZE) the platform tables, REINDEX CONCURRENTLY invalid indexes",
  usage: `Usage: sensa-db maintain [--full --yes] [--url <url>] [--json]

Safe while the app runs: VACUUM (ANALYZE) of each platform table (no lock that blocks reads or
writes), then REINDEX INDEX CONCURRENTLY of each INVALID index. Each step is printed with its
duration. Exit code 1 if a step failed (the others still ran).
  --full   VACUUM (FULL, ANALYZE) instead: gives disk space back, but LOCKS EACH TABLE against
           all reads and writes while it is rewritten (minutes on a large table). Needs --yes.`,
  options: { full: { type: "boolean", default: false }, yes: { type: "boolean", default: false } },
  async run(ctx) {
    const full = Boolean(ctx.values.full);
    if (full) {
      console.error("warning: VACUUM FULL holds an ACCESS EXCLUSIVE lock on each table while it rewrites it: the app can neither read nor write that table meanwhile.");
      if (!ctx.values.yes) {
        console.error("refusing without --yes");
        if (ctx.json) console.log(JSON.stringify({ ok: false, error: { code: "NOT_CONFIRMED", message: "--full needs --yes" } }));
        return 1;
      }
    }
    const result = await maintain(ctx.db, { full, onLog: ctx.json ? undefined : (line) => console.log(line) });
    if (ctx.json) console.log(JSON.stringify(result, null, 2));
    else console.log(result.ok ? `done: ${result.steps.length} step(s)` : `${result.steps.filter((s) => !s.ok).length} step(s) failed`);
    return result.ok ? 0 : 1;
  },
};
