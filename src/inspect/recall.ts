import { sql, type SQL } from "drizzle-orm";
import type { Database } from "../connection.js";
import type { Transaction } from "../db/transaction.js";
import { ValidationError } from "../db/errors.js";
import { num, queryRows, str } from "../db/query.js";
import { sqlState } from "./pg-error.js";
import { hnswIndexes, type DeclaredIndex } from "./platform.js";
import { CURRENT_USER_SETTING } from "../db/constants.js";

export interface RecallOptions {
  /** Stored embeddings to use as queries, per index (default 100). */
  sample?: number;
  /** Stop sampling when this much time has passed, across all indexes (default 60 s). */
  timeBudgetMs?: number;
  /** Measure at this ef_search instead of the one in force. */
  efSearch?: number;
  /** Only these indexes (by index or table name); default every HNSW index of src/schema. */
  only?: string[];
  /** Which embeddings are sampled (default 1): the same seed samples the same rows. */
  seed?: number;
  /** Recall below this needs attention (default 0.95). */
  target?: number;
}

export interface RecallRow {
  index: string;
  table: string;
  column: string;
  /** Rows with an embedding (what the index holds). */
  embeddings: number;
  /** Queries measured: fewer than asked when the time budget ran out or the table is small. */
  queries: number;
  /** Mean share of each query's exact 10 nearest neighbours (itself excluded) that the index also returned; null with no query. */
  recallAt10: number | null;
  /** The ef_search measured at, and where it comes from. */
  efSearch: number;
  efSearchSource: string;
  /** hnsw.iterative_scan as the search function sets it ("off" when none does). */
  iterativeScan: string;
  hnswP50Ms: number | null;
  exactP50Ms: number | null;
  stoppedByTimeBudget: boolean;
  /** recallAt10 is below the target: raise ef_search (in the search function) or rebuild with a larger m / ef_construction. */
  belowTarget: boolean;
  /** Why a figure is missing or should be read with care. */
  note: string | null;
}

export interface RecallReport {
  rows: RecallRow[];
  notes: string[];
  target: number;
}

const K = 10;
const OPERATORS: Record<string, string> = {
  vector_cosine_ops: "<=>",
  vector_l2_ops: "<->",
  vector_ip_ops: "<#>",
  vector_l1_ops: "<+>",
};

/**
 * Estimates the live recall@10 of each HNSW index on the database's own data: samples stored
 * embeddings, asks the index for each one's 10 nearest neighbours (itself excluded) at the
 * ef_search the search function sets (read from its `SET hnsw.ef_search`, else the session's),
 * and compares with the exact answer from a sequential scan in the same transaction with index
 * and bitmap scans disabled. Runs read-only, in one REPEATABLE READ transaction per index as
 * admin_role (the owner's RLS is forced and would show no rows; admin_role sees every row
 * through its policy, and needs no ALTER TABLE, which would lock the table against the app).
 * Bounded in time: queries stop when the budget is spent and the figure says how many ran.
 * Each exact query reads the whole table (about 0.75 s at 100k documents).
 *
 * ```ts
 * const { rows } = await estimateRecall(db, { sample: 50, timeBudgetMs: 30_000 });
 * for (const r of rows) console.log(r.index, r.recallAt10, "at ef_search", r.efSearch);
 * ```
 */
export async function estimateRecall(db: Database, options: RecallOptions = {}): Promise<RecallReport> {
  const sample = options.sample ?? 100;
  const budget = options.timeBudgetMs ?? 60_000;
  const target = options.target ?? 0.95;
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1)
      throw new ValidationError(`${name} must be a positive integer, got ${v}`, [
        { path: name, message: "a positive integer" },
      ]);
  };
  positive("sample", sample);
  positive("timeBudgetMs", budget);
  if (options.efSearch !== undefined) positive("efSearch", options.efSearch);
  const indexes = hnswIndexes().filter(
    (i) => !options.only?.length || options.only.includes(i.name) || options.only.includes(i.table),
  );
  if (indexes.length === 0)
    throw new ValidationError(`no HNSW index matches ${options.only?.join(", ")}`, [
      { path: "only", message: "an HNSW index or its table" },
    ]);
  const started = performance.now();
  const rows: RecallRow[] = [];
  for (const [i, index] of indexes.entries()) {
    // Each index gets an equal share of what is left of the budget.
    const deadline = performance.now() + (budget - (performance.now() - started)) / (indexes.length - i);
    rows.push(
      await measureIndex(db, index, { sample, deadline, efSearch: options.efSearch, seed: options.seed ?? 1, target }),
    );
  }
  return {
    rows,
    target,
    notes: [
      `recall@10 of the index against an exact scan, over stored embeddings as queries (each one's own row excluded); target ${target}`,
      "measured as admin_role in read-only REPEATABLE READ transactions; nothing is locked beyond a normal read",
    ],
  };
}

interface MeasureOptions {
  sample: number;
  deadline: number;
  efSearch: number | undefined;
  seed: number;
  target: number;
}

async function measureIndex(db: Database, index: DeclaredIndex, options: MeasureOptions): Promise<RecallRow> {
  const column = index.columns[0]!;
  const operator = OPERATORS[index.opClass ?? ""] ?? "<=>";
  const base: RecallRow = {
    index: index.name,
    table: index.table,
    column,
    embeddings: 0,
    queries: 0,
    recallAt10: null,
    efSearch: options.efSearch ?? 0,
    efSearchSource: options.efSearch ? "given" : "session",
    iterativeScan: "off",
    hnswP50Ms: null,
    exactP50Ms: null,
    stoppedByTimeBudget: false,
    belowTarget: false,
    note: null,
  };
  const [state] = await queryRows(
    db,
    sql`SELECT x.indisvalid AND x.indisready AS valid FROM pg_index x WHERE x.indexrelid = to_regclass(${`public.${index.name}`})`,
  );
  if (!state) return { ...base, note: "the index is missing: sensa-db inspect health" };
  if (!state.valid) return { ...base, note: "the index is INVALID, so no query uses it: sensa-db maintain" };

  const function_ = await searchFunctionSettings(db, index.table);
  const hnswTimes: number[] = [];
  const exactTimes: number[] = [];
  const overlaps: number[] = [];
  const table = sql.identifier(index.table);
  const col = sql.identifier(column);
  let result: RecallRow = base;
  try {
    await db.transaction(
      async (tx) => {
        await tx.execute(sql`SELECT set_config(${CURRENT_USER_SETTING}, '', true)`);
        await tx.execute(sql.raw("SET LOCAL ROLE admin_role"));
        const [count] = await queryRows(tx, sql`SELECT count(*) AS n FROM ${table} WHERE ${col} IS NOT NULL`);
        // Pick the rows first and read only their embeddings (by TID), not every row's as text.
        const picked = await queryRows(
          tx,
          sql`SELECT ctid::text AS row, ${col}::text AS embedding FROM ${table}
            WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE ${col} IS NOT NULL ORDER BY md5(ctid::text || ${String(options.seed)}) LIMIT ${options.sample}))`,
        );
        // hnsw.* exist once pgvector's library is loaded, which the query above did.
        const [session] = await queryRows(
          tx,
          sql`SELECT current_setting('hnsw.ef_search', true) AS ef, current_setting('hnsw.iterative_scan', true) AS iterative`,
        );
        const efSearch = options.efSearch ?? function_.efSearch ?? num(session?.ef ?? 40);
        const iterativeScan = function_.iterativeScan ?? String(session?.iterative ?? "off");
        result = {
          ...base,
          embeddings: num(count!.n),
          efSearch,
          efSearchSource: options.efSearch
            ? "given"
            : function_.efSearch
              ? `${function_.name} (SET hnsw.ef_search)`
              : "this session (database, role or server default)",
          iterativeScan,
        };
        const nearest = (embedding: string): SQL =>
          sql`SELECT ctid::text AS row FROM ${table} WHERE ${col} IS NOT NULL ORDER BY ${col} ${sql.raw(operator)} ${embedding}::vector LIMIT ${K + 1}`;
        const hnswSettings = [
          `SET LOCAL hnsw.ef_search = ${efSearch}`,
          `SET LOCAL hnsw.iterative_scan = ${iterativeScan}`,
          // As the benchmark: at some sizes the planner costs a scan below the index; measure the index.
          "SET LOCAL enable_seqscan = off",
          "SET LOCAL enable_indexscan = on",
          "SET LOCAL enable_bitmapscan = on",
        ];
        const exactSettings = [
          "SET LOCAL enable_seqscan = on",
          "SET LOCAL enable_indexscan = off",
          "SET LOCAL enable_bitmapscan = off",
        ];
        const apply = async (settings: string[]) => {
          for (const s of settings) await tx.execute(sql.raw(s));
        };
        if (picked[0]) {
          const probe = String(picked[0].embedding);
          await apply(hnswSettings);
          if (!(await planUses(tx, nearest(probe), index.name))) {
            result = {
              ...result,
              note: `the planner would not use ${index.name} even with sequential scans off; nothing measured`,
            };
            return;
          }
          await apply(exactSettings);
          if (await planUses(tx, nearest(probe), index.name))
            throw new Error(`the exact scan still used ${index.name}`);
        }
        for (const query of picked) {
          const remaining = Math.floor(options.deadline - performance.now());
          if (remaining <= 0) {
            result = { ...result, stoppedByTimeBudget: true };
            break;
          }
          const self = String(query.row);
          const embedding = String(query.embedding);
          await tx.execute(sql.raw(`SET LOCAL statement_timeout = ${Math.max(remaining, 100)}`));
          await apply(hnswSettings);
          const hnsw = await timed(hnswTimes, () => queryRows(tx, nearest(embedding)));
          await apply(exactSettings);
          const exact = await timed(exactTimes, () => queryRows(tx, nearest(embedding)));
          const others = (list: Record<string, unknown>[]) =>
            list
              .map((r) => String(r.row))
              .filter((r) => r !== self)
              .slice(0, K);
          const truth = others(exact);
          if (truth.length === 0) continue;
          const found = new Set(others(hnsw));
          overlaps.push(truth.filter((r) => found.has(r)).length / truth.length);
        }
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  } catch (error) {
    // statement_timeout fired: the budget ran out inside a query; keep what was measured.
    if (sqlState(error) !== "57014") throw error;
    result = { ...result, stoppedByTimeBudget: true };
  }
  const recall = overlaps.length ? overlaps.reduce((a, b) => a + b, 0) / overlaps.length : null;
  return {
    ...result,
    queries: overlaps.length,
    recallAt10: recall === null ? null : Math.round(recall * 1000) / 1000,
    hnswP50Ms: median(hnswTimes),
    exactP50Ms: median(exactTimes),
    belowTarget: recall !== null && recall < options.target,
    note:
      result.note ??
      (result.embeddings === 0
        ? "no embeddings stored yet"
        : overlaps.length === 0 && result.stoppedByTimeBudget
          ? "the time budget ran out before the first query: give it more time"
          : result.embeddings <= K
            ? `only ${result.embeddings} embeddings: every search is exact`
            : null),
  };
}

/** The hnsw.* settings of the search function that reads this table (its `SET` clauses), if one does. */
async function searchFunctionSettings(
  db: Database,
  table: string,
): Promise<{ name: string | null; efSearch: number | null; iterativeScan: string | null }> {
  const rows = await queryRows(
    db,
    sql`SELECT p.proname AS name, c.setting
      FROM pg_proc p CROSS JOIN LATERAL unnest(p.proconfig) AS c(setting)
      WHERE p.pronamespace = 'public'::regnamespace AND c.setting LIKE 'hnsw.%' AND p.prosrc ~ ('\\m' || ${table} || '\\M')
      ORDER BY p.proname`,
  );
  const name = rows[0] ? str(rows[0].name) : null;
  const value = (key: string) => {
    const row = rows.find((r) => str(r.name) === name && str(r.setting).startsWith(`${key}=`));
    return row
      ? str(row.setting)
          .slice(key.length + 1)
          .replace(/^"|"$/g, "")
      : null;
  };
  const ef = value("hnsw.ef_search");
  return { name, efSearch: ef === null ? null : Number(ef), iterativeScan: value("hnsw.iterative_scan") };
}

async function planUses(tx: Transaction, query: SQL, index: string): Promise<boolean> {
  const plan = await queryRows(tx, sql`EXPLAIN ${query}`);
  return plan.some((r) => Object.values(r).some((line) => String(line).includes(index)));
}

async function timed<T>(times: number[], fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await fn();
  times.push(performance.now() - start);
  return result;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(m * 100) / 100;
}
