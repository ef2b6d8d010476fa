import { sql } from "drizzle-orm";
import {
  closeDb,
  createDb,
  replicaStats,
  findSimilarDocuments,
  getCourseStats,
  searchKeywords,
  withAdmin,
  withDatabase,
  withUserContext,
  type ConnectionTarget,
  type Database,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { SUBJECTS } from "../src/seed/vocabulary.js";
import { round } from "./timing.js";

export const CLIENTS = [1, 4, 16];
/** Operations per client at each level: counts, not a duration, so every level does the same work per client. */
const OPS_PER_CLIENT = 150;

export interface ConcurrencyRow {
  target: string;
  workload: string;
  clients: number;
  ops: number;
  qps: number;
  p50_ms: number;
  p99_ms: number;
}

interface Sample {
  userId: string;
  courseId: string;
  embedding: number[];
}

/**
 * Queries per second and p50/p99 at 1, 4 and 16 concurrent clients, for
 * - the read mix: find_similar_documents, search_keywords and get_course_stats in turn, each in
 *   its own user context (RLS on), as the API would run them;
 * - a global nearest-10 (HNSW, ef_search 40) as admin_role, the query managed vector services
 *   publish figures for;
 * against each target given: the primary directly, through pgbouncer, and on the replica (in
 * read-only contexts, routed there by `replicaUrls`). Each target gets its own pool of 16.
 */
export async function concurrencySuite(
  db: Database,
  targets: { primary: ConnectionTarget; pooler?: ConnectionTarget; replica?: ConnectionTarget; database: string },
  log: (s: string) => void,
): Promise<ConcurrencyRow[]> {
  const rows = await withAdmin(db, (tx) =>
    queryRows(
      tx,
      sql`SELECT c.user_id, c.id AS course_id, d.embedding::text AS e FROM courses c
      JOIN processed_documents d ON d.course_id = c.id ORDER BY md5(c.id::text) LIMIT 200`,
    ),
  );
  const samples: Sample[] = rows.map((r) => ({
    userId: String(r.user_id),
    courseId: String(r.course_id),
    embedding: JSON.parse(String(r.e)) as number[],
  }));
  const terms = SUBJECTS.flatMap((s) => s.terms);

  const open = (t: ConnectionTarget, replicaUrls: string[] = []) =>
    createDb({
      target: withDatabase(t, targets.database),
      replicaUrls,
      applicationName: "sensa bench concurrency",
      pool: { max: 16 },
    });
  const dbs: Array<{ name: string; db: Database; readOnly: boolean }> = [
    { name: "primary", db: open(targets.primary), readOnly: false },
  ];
  if (targets.pooler) dbs.push({ name: "pgbouncer", db: open(targets.pooler), readOnly: false });
  // Read-only contexts, routed to the replica by replicaUrls (writes would still go to the primary).
  if (targets.replica)
    dbs.push({
      name: "replica",
      db: open(targets.primary, [targetUrl(withDatabase(targets.replica, targets.database))]),
      readOnly: true,
    });

  const mix = (db: Database, readOnly: boolean) => (i: number) => {
    const s = samples[i % samples.length]!;
    const options = { readOnly };
    switch (i % 3) {
      case 0:
        return withUserContext(
          db,
          s.userId,
          (tx) => findSimilarDocuments(tx, { embedding: s.embedding, limit: 10, threshold: 0.5 }),
          options,
        );
      case 1:
        return withUserContext(
          db,
          s.userId,
          (tx) => searchKeywords(tx, { courseId: s.courseId, query: terms[i % terms.length]!, limit: 20 }),
          options,
        );
      default:
        return withUserContext(db, s.userId, (tx) => getCourseStats(tx, { courseId: s.courseId }), options);
    }
  };
  const ann = (db: Database, readOnly: boolean) => (i: number) =>
    withAdmin(
      db,
      async (tx) => {
        await tx.execute(sql`SET LOCAL hnsw.ef_search = 40`);
        return tx.execute(
          sql`SELECT id FROM processed_documents ORDER BY embedding <=> ${JSON.stringify(samples[i % samples.length]!.embedding)}::vector LIMIT 10`,
        );
      },
      { readOnly },
    );

  const results: ConcurrencyRow[] = [];
  try {
    for (const { name, db: target, readOnly } of dbs) {
      for (const [workload, op] of [
        ["read mix (3 functions, user contexts)", mix(target, readOnly)],
        ["global nearest 10, HNSW ef_search 40", ann(target, readOnly)],
      ] as const) {
        for (const clients of CLIENTS) {
          log(`concurrency: ${name}, ${workload}, ${clients} clients`);
          results.push({ target: name, workload, clients, ...(await runAt(clients, op)) });
        }
      }
    }
    // Where the replica target's contexts ran: all of them on the replica, or the figures would lie.
    const routed = dbs.find((d) => d.name === "replica");
    if (routed) log(`concurrency: replica routing ${JSON.stringify(replicaStats(routed.db))}`);
  } finally {
    await Promise.all(dbs.map((d) => closeDb(d.db)));
  }
  return results;
}

/** `clients` loops, each running its share of operations back to back; wall-clock QPS over all. */
async function runAt(clients: number, op: (i: number) => Promise<unknown>) {
  for (let i = 0; i < clients * 3; i++) await op(i); // warm the pool and the caches
  const times: number[] = [];
  let next = 0;
  const total = clients * OPS_PER_CLIENT;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        times.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = times.sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { ops: total, qps: round(total / seconds, 1), p50_ms: round(at(0.5), 2), p99_ms: round(at(0.99), 2) };
}

function targetUrl(t: ConnectionTarget): string {
  const auth = t.password
    ? `${encodeURIComponent(t.user)}:${encodeURIComponent(t.password)}`
    : encodeURIComponent(t.user);
  return `postgres://${auth}@${t.host}:${t.port}/${encodeURIComponent(t.database)}`;
}

/** The table printed after a run: one line per target, workload and client count. */
export function printConcurrency(rows: ConcurrencyRow[], recallAt10: number | undefined): void {
  const w = Math.max(...rows.map((r) => `${r.target}  ${r.workload}`.length));
  console.log(
    `\n${"concurrency".padEnd(w)}  ${"clients".padStart(7)}  ${"qps".padStart(8)}  ${"p50 ms".padStart(8)}  ${"p99 ms".padStart(8)}  ${"recall@10".padStart(9)}`,
  );
  for (const r of rows) {
    const recall = r.workload.startsWith("global") && recallAt10 !== undefined ? String(recallAt10) : "";
    console.log(
      `${`${r.target}  ${r.workload}`.padEnd(w)}  ${String(r.clients).padStart(7)}  ${String(r.qps).padStart(8)}  ${String(r.p50_ms).padStart(8)}  ${String(r.p99_ms).padStart(8)}  ${recall.padStart(9)}`,
    );
  }
}
