import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { generateUsers, type UserBatch } from "./generate.js";
import { dropVectorIndexes, insertBatches, rebuildVectorIndexes } from "./load.js";
import { expectedRows, planSeed, type SeedOptions } from "./plan.js";

export { planSeed, expectedRows, type SeedOptions, type SeedPlan } from "./plan.js";

export interface SeedResult {
  rows: ReturnType<typeof expectedRows>;
  totalRows: number;
  seconds: number;
  rowsPerSecond: number;
  /** Seconds spent rebuilding deferred HNSW indexes (0 if not deferred). */
  indexSeconds: number;
  /** The ids of the users created, in order. */
  userIds: string[];
}

/** Users whose rows go into one transaction: big enough to amortise, small enough to report progress. */
const USERS_PER_TRANSACTION = 25;

/**
 * Fills a migrated database with a realistic, deterministic data set (see SeedOptions):
 * multi-row INSERTs as admin_role, HNSW indexes rebuilt after the load when it is large.
 * Throws ValidationError on bad options before writing anything.
 *
 * ```ts
 * const { rows, rowsPerSecond } = await seed(db, { users: 100, seed: 7 });
 * ```
 */
export async function seed(db: Database, options: SeedOptions = {}, onProgress?: (done: number, total: number) => void): Promise<SeedResult> {
  const plan = planSeed(options);
  const rows = expectedRows(plan);
  const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
  const embeddings = rows.processed_documents + (plan.embedChapters ? rows.chapters : 0) + (plan.embedKeywords ? rows.keywords : 0);
  const defer = plan.deferIndexes === "auto" ? embeddings > 1_000 : plan.deferIndexes;
  const started = performance.now();
  const indexes = defer ? await dropVectorIndexes(db) : [];
  const userIds: string[] = [];
  let done = 0;
  let indexStarted = 0;
  try {
    let pending: UserBatch[] = [];
    const flush = async () => {
      await insertBatches(db, pending);
      done += pending.reduce((n, b) => n + Object.values(b).reduce((m, list) => m + list.length, 0), 0);
      onProgress?.(done, totalRows);
      pending = [];
    };
    for (const batch of generateUsers(plan)) {
      userIds.push(batch.users[0]!.id!);
      pending.push(batch);
      if (pending.length === USERS_PER_TRANSACTION) await flush();
    }
    if (pending.length) await flush();
  } finally {
    // Rebuilt even when the load failed part-way: the schema must not be left without them.
    indexStarted = performance.now();
    if (indexes.length) await rebuildVectorIndexes(db, indexes);
  }
  const indexSeconds = indexes.length ? (performance.now() - indexStarted) / 1000 : 0;
  await db.execute(sql`ANALYZE`);
  const seconds = (performance.now() - started) / 1000;
  return { rows, totalRows, seconds, rowsPerSecond: totalRows / seconds, indexSeconds, userIds };
}
