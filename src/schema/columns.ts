import { sql } from "drizzle-orm";
import { timestamp, uuid, vector } from "drizzle-orm/pg-core";
import { EMBEDDING_DIMENSIONS } from "../db/constants.js";

// Defined with the other facts SQL shares (src/db/constants.ts); exported here for the schema entry.
export { EMBEDDING_DIMENSIONS };

export const id = () =>
  uuid("id")
    .primaryKey()
    .default(sql`uuid_generate_v4()`);

/** `updated_at` is kept by the `set_updated_at` trigger (sql/triggers/updated_at.sql), not by the app. */
export const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

export const embedding = () => vector("embedding", { dimensions: EMBEDDING_DIMENSIONS });

/**
 * HNSW build parameters of processed_documents' embedding index (migration 0005), chosen from the
 * recall curve at 10k, 100k and 300k documents (bench/results/latest.json: scale_curve).
 */
// Strings, not numbers: drizzle-kit reads an index's reloptions back as strings ("m=24" → "24")
// and compares them with the schema's values as JSON, so numbers would make push rebuild the index
// on every run (test/drizzle-kit). Generated SQL is the same: WITH (m=24,ef_construction=128).
export const HNSW_BUILD = { m: "24", ef_construction: "128" } as const;

/**
 * The RLS context's user (sql/context/current_user_id.sql), the default owner of a new row: see
 * ownerColumn in ownership.ts. A call rather than the expression inside it: drizzle-kit's push
 * reads a default back by cutting it at its first `::`, so an expression with a cast never
 * matched and push re-set nine defaults on every run.
 */
export const ownerDefault = sql`app_current_user_id()`;
