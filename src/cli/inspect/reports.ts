import { createInterface } from "node:readline/promises";
import type { Database } from "../../connection.js";
import { ValidationError } from "../../db/errors.js";
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
  slowQueries,
  tableSizes,
  terminateBackend,
  unusedIndexes,
  vacuumStats,
  type SessionRow,
} from "../../inspect/index.js";
import type { OptionValues } from "../command.js";
import {
  bytes,
  clip,
  count,
  duration,
  latest,
  qualified,
  ratio,
  table,
  when,
  type Column,
  type Output,
} from "./format.js";

/** The options of `sensa-db inspect`; each report reads those it uses. */
export const INSPECT_OPTIONS = {
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
} as const;

export type InspectOptions = OptionValues<typeof INSPECT_OPTIONS>;

interface ReportSpec {
  summary: string;
  /** What the connected role needs beyond connecting, shown in the help. */
  needs: string;
  run(db: Database, args: Args): Promise<Output>;
}

interface Args {
  limit: number | undefined;
  values: InspectOptions;
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
      const order = a.values.order;
      if (order !== undefined && order !== "mean" && order !== "total" && order !== "calls") {
        throw new ValidationError(`--order must be mean, total or calls, got ${order}`, [
          { path: "order", message: "mean, total or calls" },
        ]);
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
      return table(
        await longRunning(db, { limit: a.limit, minDurationMs: min === undefined ? undefined : min * 1000 }),
        sessionColumns,
      );
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
        {
          header: "object",
          value: (r) => (r.kind === "index" ? `${r.object} on ${r.table}` : qualified(r.schema, r.table)),
        },
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
    summary:
      "RLS forced on every table, indexes valid, migrations checksummed and applied, replica lag (exit 1 if not)",
    needs: `${NO_PRIVILEGE} (replica lag details need pg_monitor)`,
    run: async (db) => {
      const report = await health(db);
      const lines = report.checks.flatMap((c) => [
        `${c.ok ? "ok  " : "FAIL"}  ${c.name}: ${c.summary}`,
        ...c.problems.map((p) => `        - ${p}`),
      ]);
      lines.push(
        report.ok
          ? "healthy"
          : `needs attention: ${report.checks
              .filter((c) => !c.ok)
              .map((c) => c.name)
              .join(", ")}`,
      );
      return { json: { ...report }, text: lines.join("\n"), exitCode: report.ok ? 0 : 1 };
    },
  },
  recall: {
    summary:
      "live recall@10 of each HNSW index against an exact scan, at the ef_search in force (exit 1 below --min-recall)",
    needs: "membership in admin_role (the owner has it); reads every row of each sampled table once per query",
    run: async (db, a) => {
      const budget = numberArg(a.values, "time-budget");
      const report = await estimateRecall(db, {
        sample: numberArg(a.values, "sample"),
        timeBudgetMs: budget === undefined ? undefined : Math.round(budget * 1000),
        efSearch: numberArg(a.values, "ef-search"),
        only: a.values.index === undefined ? undefined : [a.values.index],
        target: numberArg(a.values, "min-recall"),
      });
      const out = table(report, [
        { header: "index", value: (r) => r.index },
        { header: "embeddings", value: (r) => count(r.embeddings), right: true },
        { header: "queries", value: (r) => `${r.queries}${r.stoppedByTimeBudget ? " (time)" : ""}`, right: true },
        {
          header: "recall@10",
          value: (r) => (r.recallAt10 === null ? "-" : `${r.recallAt10.toFixed(3)}${r.belowTarget ? " LOW" : ""}`),
          right: true,
        },
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
      return {
        json: { ok: false, pid, terminated: false, reason: "not confirmed: pass --yes" },
        text: `refusing to terminate pid ${pid} without confirmation: pass --yes`,
        exitCode: 1,
      };
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(question);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim()))
      return { json: { ok: false, pid, terminated: false, reason: "declined" }, text: "not terminated", exitCode: 1 };
  }
  const result = await terminateBackend(db, pid);
  const text = result.terminated ? `terminated pid ${pid}` : `did not terminate pid ${pid}: ${result.reason}`;
  return { json: { ok: result.terminated, ...result }, text, exitCode: result.terminated ? 0 : 1 };
}

/** A number option, or undefined when absent; ValidationError when it is not a number. */
export function numberArg(values: InspectOptions, name: keyof InspectOptions): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) {
    throw new ValidationError(`--${name} must be a number, got ${String(raw)}`, [{ path: name, message: "a number" }]);
  }
  return n;
}
