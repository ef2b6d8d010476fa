import { sql } from "drizzle-orm";
import { timestamp, uuid, vector } from "drizzle-orm/pg-core";

/** Every embedding on the platform comes from one 768-dimension model. */
export const EMBEDDING_DIMENSIONS = 768;

export const id = () => uuid("id").primaryKey().default(sql`uuid_generate_v4()`);

/** `updated_at` is kept by the `set_updated_at` trigger (sql/triggers/updated_at.sql), not by the app. */
export const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

export const embedding = () => vector("embedding", { dimensions: EMBEDDING_DIMENSIONS });

/**
 * The owning user of a row. Row-level security filters every user-data table by this one
 * indexed column, so policies never join up the ownership chain. It defaults to the RLS
 * context's user; on child tables the `inherit_owner` trigger overwrites it with the parent's
 * owner, so it can never disagree with the chain it summarises.
 */
export const ownerDefault = sql`(nullif(current_setting('app.current_user_id', true), ''))::uuid`;

/**
 * A NOT NULL column that the `inherit_owner` trigger copies from the parent row before the
 * constraint is checked, so inserts may leave it out (the DEFAULT NULL makes that visible to
 * Drizzle's insert types).
 */
export const inheritedDefault = sql`null`;
