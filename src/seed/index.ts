import { sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import { isEmbedded, type Database } from "../connection.js";
import { ConnectionLostError, toDatabaseError } from "../db/database-errors.js";
import { CopyLoader } from "./copy-loader.js";
import { generateUsersPausing, PAUSE } from "./generate.js";
import {
  dropVectorIndexes,
  embeddingCounts,
  rebuildVectorIndexes,
  vectorIndexes,
  type IndexBuildSettings,
} from "./indexes.js";
import { InsertLoader } from "./insert-loader.js";
import { suspendForBulkLoad, type BulkRestore } from "./bulk.js";
import { fillInheritedColumns } from "./inherit.js";
import { LOAD_ORDER, type Loader, type TableName } from "./load.js";
import { expectedRows, planSeed, type SeedOptions } from "./plan.js";
import { inSeedTransaction, type SeedSession } from "./session.js";

export { planSeed, expectedRows, type SeedOptions, type SeedPlan } from "./plan.js";
export { graphMemoryMB, type IndexBuildSettings } from "./indexes.js";
export { checkInheritedOwners, InheritedOwnerMismatchError, type BulkRestore } from "./bulk.js";

export interface SeedResult {
  rows: ReturnType<typeof expectedRows>;
  totalRows: number;
  /** Seconds from start to end, index build and ANALYZE included. */
  seconds: number;
  /** totalRows / seconds. */
  rowsPerSecond: number;
  /** How the rows went in: binary COPY (a server, as the tables' owner) or multi-row INSERTs (PGlite, or a non-owner). */
  loader: "copy" | "insert";
  /**
   * The load alone, end to end, before the HNSW build: generating, encoding and sending every
   * row and, on a bulk load (COPY with deferred indexes), suspending and restoring the secondary
   * indexes, foreign keys and `inherit_owner` triggers and checking ownership set-based.
   */
  load: {
    seconds: number;
    rowsPerSecond: number;
    /** The restore in detail (included in `seconds`), or null when nothing was suspended. */
    restore: BulkRestore | null;
  };
  /** Per table: its rows, and the seconds its COPY (or INSERT) statements took on the server. */
  tables: Record<TableName, { rows: number; seconds: number; rowsPerSecond: number }>;
  /** Seconds spent rebuilding deferred HNSW indexes (0 if not deferred). */
  indexSeconds: number;
  /**
   * The rebuild in detail (null if not deferred): the largest maintenance_work_mem set and the
   * parallel workers allowed, and per index its seconds, embeddings and memory.
   */
  index: {
    settings: IndexBuildSettings;
    embeddings: number;
    /** indexSeconds per 100,000 embeddings indexed. */
    secondsPer100k: number;
    indexes: Array<{ name: string; seconds: number; embeddings: number; maintenanceWorkMem: string }>;
  } | null;
  /** The ids of the users created, in order. */
  userIds: string[];
}

/**
 * Encoded rows a flush sends at once (one COPY per table). The server waits between two COPYs
 * until the client, busy generating the next flush, reads the reply (up to one user's generation,
 * ~10-20 ms at the bench's 100 documents a user): fewer, larger flushes waste less of it. Memory:
 * two flushes at most (one on the wire, one being built).
 */
const FLUSH_BYTES = 64 * 1024 * 1024;

/**
 * Fills a migrated database with a realistic, deterministic data set (see SeedOptions), in ONE
 * transaction: it commits whole, or (killed, disconnected, failed) leaves the database as it was,
 * HNSW indexes included. On a server, run as the tables' owner, rows go in through binary COPY
 * (~10x the INSERTs' rate); on PGlite, or as a non-owning member of admin_role, through
 * multi-row INSERTs as admin_role. For large loads the HNSW indexes are dropped and rebuilt
 * inside that transaction and, on the COPY path, the other secondary indexes, the foreign keys
 * and the `inherit_owner` triggers are suspended and restored (suspendForBulkLoad); the seed holds
 * its tables locked (ACCESS EXCLUSIVE) until it ends. Throws InheritedOwnerMismatchError if a
 * row breaks what those triggers enforce.
 * Throws ValidationError on bad options before writing anything, and ConnectionLostError (code
 * `CONNECTION_LOST`) saying so when the connection dies before the commit.
 *
 * ```ts
 * const { rows, load, index } = await seed(db, { users: 100, seed: 7 });
 * console.log(`${load.rowsPerSecond} rows/s, HNSW ${index?.secondsPer100k} s per 100k`);
 * ```
 */
export async function seed(
  db: Database,
  options: SeedOptions = {},
  onProgress?: (done: number, total: number) => void,
): Promise<SeedResult> {
  const plan = planSeed(options);
  const rows = expectedRows(plan);
  const totalRows = Object.values(rows).reduce((a, b) => a + b, 0);
  const embeddings =
    rows.processed_documents + (plan.embedChapters ? rows.chapters : 0) + (plan.embedKeywords ? rows.keywords : 0);
  const started = performance.now();
  const phase = { now: "opening the transaction" };
  try {
    const result = await inSeedTransaction(db, async (s) => {
      await s.run("SET LOCAL search_path = public, pg_temp");
      // A client that dies (kill -9) is noticed within a second even during a long index build,
      // which then stops instead of finishing for a transaction that will only roll back.
      if (!isEmbedded(db)) await s.run("SET LOCAL client_connection_check_interval = 1000");
      const owner = await ownsTables(s);
      const copy = owner && s.copy && plan.loader === "auto" ? s.copy : undefined;
      const defer = plan.deferIndexes === "auto" ? embeddings > 1_000 && owner : plan.deferIndexes;
      const indexes = defer ? await vectorIndexes(s) : [];
      phase.now = "dropping the HNSW indexes";
      await dropVectorIndexes(s, indexes);
      const restore = copy ? await liftForcedRowSecurity(s) : await actAsAdmin(s);

      const loadStarted = performance.now();
      // The server's share of a COPY is mostly per-row triggers, foreign-key checks and index
      // insertions: on the bench's 100k data set its backend used 23.9 s of CPU with them, 7.6-9.6 s
      // without (the restore and the ownership check then take ~2-3 s); the load 16.2k -> 25-26k rows/s.
      phase.now = "suspending the indexes, foreign keys and triggers";
      const restoreBulk = copy && defer ? await suspendForBulkLoad(s, SEEDED_TABLES) : undefined;
      const loader: Loader = copy ? new CopyLoader({ ...s, copy }) : new InsertLoader(s);
      const tables = Object.fromEntries(LOAD_ORDER.map(([name]) => [name, { rows: 0, seconds: 0 }])) as Record<
        TableName,
        { rows: number; seconds: number }
      >;
      const userIds: string[] = [];
      let done = 0;
      const flush = () => {
        const sending = loader.flush().then((times) => {
          for (const [name, t] of Object.entries(times) as Array<[TableName, { rows: number; seconds: number }]>) {
            tables[name].rows += t.rows;
            tables[name].seconds += t.seconds;
            done += t.rows;
          }
          onProgress?.(done, totalRows);
        });
        sending.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
        return sending;
      };
      phase.now = "the load";
      let inFlight: Promise<void> = Promise.resolve();
      let failed = false;
      inFlight.catch(() => (failed = true));
      for (const batch of generateUsersPausing(plan)) {
        if (batch === PAUSE) {
          // Lets the flush's socket writes and the server's replies through within a user too.
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (failed) break;
          continue;
        }
        userIds.push(batch.users[0]!.id!);
        // With the triggers off, the rows carry what they would have copied (checked after the load).
        if (restoreBulk) fillInheritedColumns(batch);
        loader.add(batch);
        if (loader.pendingBytes >= FLUSH_BYTES) {
          await inFlight; // one flush on the wire while the next is generated, never two
          inFlight = flush();
          inFlight.catch(() => (failed = true));
        }
        // Lets the flush's socket writes and the server's replies through between users.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (failed) break;
      }
      await inFlight;
      await flush();
      phase.now = "the restore of the indexes, foreign keys and triggers";
      const restored = restoreBulk ? await restoreBulk() : null;
      const loadSeconds = (performance.now() - loadStarted) / 1000;

      const counts = await embeddingCounts(s, indexes);
      await restore();
      phase.now = "the HNSW index build";
      const { built, settings } = await rebuildVectorIndexes(
        s,
        indexes,
        isEmbedded(db) ? "embedded" : "server",
        counts,
      );
      phase.now = "the commit";
      return {
        tables,
        userIds,
        loadSeconds,
        restored,
        built,
        settings,
        loader: copy ? ("copy" as const) : ("insert" as const),
      };
    });
    phase.now = "ANALYZE";
    await db.execute(sql`ANALYZE`);
    const seconds = (performance.now() - started) / 1000;
    const indexSeconds = result.built.reduce((a, b) => a + b.seconds, 0);
    const indexed = result.built.reduce((a, b) => a + b.embeddings, 0);
    return {
      rows,
      totalRows,
      seconds,
      rowsPerSecond: totalRows / seconds,
      loader: result.loader,
      load: { seconds: result.loadSeconds, rowsPerSecond: totalRows / result.loadSeconds, restore: result.restored },
      tables: Object.fromEntries(
        Object.entries(result.tables).map(([name, t]) => [
          name,
          { ...t, rowsPerSecond: t.seconds > 0 ? t.rows / t.seconds : 0 },
        ]),
      ) as SeedResult["tables"],
      indexSeconds,
      index: result.built.length
        ? {
            settings: result.settings,
            embeddings: indexed,
            secondsPer100k: indexed ? indexSeconds / (indexed / 100_000) : 0,
            indexes: result.built,
          }
        : null,
      userIds: result.userIds,
    };
  } catch (error) {
    throw seedError(error, phase.now);
  }
}

/** A lost connection says what it means for the data; anything else is typed as usual. */
function seedError(error: unknown, phase: string): unknown {
  const typed = toDatabaseError(error);
  if (!(typed instanceof ConnectionLostError) || phase === "ANALYZE") return typed;
  const outcome =
    phase === "the commit"
      ? "the commit may or may not have taken effect: check the row counts"
      : "the seed's transaction did not commit, so the server rolled it back: no row of it was written and the indexes, foreign keys and triggers are as they were";
  return new ConnectionLostError(
    `seed: the connection was lost during ${phase} (${typed.message}); ${outcome}`,
    typed.sqlState,
    error,
  );
}

const SEEDED_TABLES = LOAD_ORDER.map(([, table]) => getTableConfig(table).name);

/** Whether the session's role owns (is a member of the owner of) every seeded table. */
async function ownsTables(s: SeedSession): Promise<boolean> {
  const [row] = await s.run(
    sql`SELECT bool_and(pg_has_role(current_user, relowner, 'USAGE')) AS owner FROM pg_class WHERE oid = ANY(${`{${SEEDED_TABLES.join(",")}}`}::regclass[])`,
  );
  return row?.owner === true;
}

/**
 * PostgreSQL refuses COPY FROM into a table whose row-level security applies to the copying role
 * ("COPY FROM not supported with row-level security"), and every seeded table FORCEs it even for
 * its owner. The owner lifts FORCE for this transaction only: no other session ever sees the
 * change (it is not committed until put back, and the tables are locked meanwhile), and a seed
 * that never commits rolls it back with everything else. Returns the step that puts it back.
 */
async function liftForcedRowSecurity(s: SeedSession): Promise<() => Promise<void>> {
  const forced = (
    await s.run(
      sql`SELECT relname FROM pg_class WHERE oid = ANY(${`{${SEEDED_TABLES.join(",")}}`}::regclass[]) AND relforcerowsecurity`,
    )
  ).map((r) => String(r.relname));
  for (const table of forced) await s.run(`ALTER TABLE "${table}" NO FORCE ROW LEVEL SECURITY`);
  return async () => {
    for (const table of forced) await s.run(`ALTER TABLE "${table}" FORCE ROW LEVEL SECURITY`);
  };
}

/** The INSERT path acts as admin_role, whose policies pass every row; returns the step back to the session's own role. */
async function actAsAdmin(s: SeedSession): Promise<() => Promise<void>> {
  const [row] = await s.run("SELECT current_user AS role");
  await s.run("SET LOCAL ROLE admin_role");
  return async () => {
    await s.run(`SET LOCAL ROLE "${String(row!.role).replace(/"/g, '""')}"`);
  };
}
