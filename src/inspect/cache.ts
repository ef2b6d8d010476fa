import { sql } from "drizzle-orm";
import type { Queryable } from "../db/transaction.js";
import { num, queryRows, str } from "../db/query.js";
import { limitOf, type ListOptions, type Report } from "./report.js";

export interface CacheHitRow {
  /** `all tables`, `all indexes`, or one table's name (its heap, TOAST and indexes together). */
  name: string;
  /** Blocks found in shared buffers over blocks asked for; null when nothing was read yet. */
  hitRatio: number | null;
  blocksHit: number;
  blocksRead: number;
}

/** Below this, the working set no longer fits in shared_buffers (Supabase's and Heroku's guidance). */
export const CACHE_HIT_TARGET = 0.99;

/**
 * How often reads are served from shared buffers: for all tables, all indexes, then each table,
 * most disk reads first. Needs no privilege beyond connecting. A ratio below 0.99 on a warmed-up
 * server means the data no longer fits in memory.
 *
 * ```ts
 * const [tables, indexes] = (await cacheHit(db)).rows;
 * ```
 */
export async function cacheHit(db: Queryable, options?: ListOptions): Promise<Report<CacheHitRow>> {
  const rows = await queryRows(
    db,
    sql`SELECT * FROM (
        SELECT 'all tables' AS name, 0 AS rank, sum(heap_blks_hit) AS hit, sum(heap_blks_read) AS read FROM pg_statio_user_tables
        UNION ALL
        SELECT 'all indexes', 1, sum(idx_blks_hit), sum(idx_blks_read) FROM pg_statio_user_indexes
        UNION ALL
        (SELECT relname, 2,
            heap_blks_hit + coalesce(idx_blks_hit, 0) + coalesce(toast_blks_hit, 0) + coalesce(tidx_blks_hit, 0),
            heap_blks_read + coalesce(idx_blks_read, 0) + coalesce(toast_blks_read, 0) + coalesce(tidx_blks_read, 0)
          FROM pg_statio_user_tables
          ORDER BY 4 DESC, 1
          LIMIT ${limitOf(options)})
      ) t ORDER BY rank, read DESC, name`,
  );
  return {
    rows: rows.map((r) => {
      const hit = num(r.hit ?? 0);
      const read = num(r.read ?? 0);
      return {
        name: str(r.name),
        hitRatio: hit + read === 0 ? null : hit / (hit + read),
        blocksHit: hit,
        blocksRead: read,
      };
    }),
    notes: [
      `a ratio below ${CACHE_HIT_TARGET} on a warmed-up server means the working set no longer fits in shared_buffers`,
    ],
  };
}
