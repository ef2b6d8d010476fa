import type { SQL } from "drizzle-orm";
import type { Queryable } from "../context.js";
import { toDatabaseError } from "../db-errors.js";

type Row = Record<string, unknown>;

/**
 * Runs a query and returns its rows, the same way on node-postgres and PGlite; a failure is the
 * typed DatabaseError it stands for, so every wrapper throws those inside a context or not.
 */
export async function queryRows(db: Queryable, query: SQL): Promise<Row[]> {
  try {
    // Both drivers return { rows }, but PgDatabase types execute() generically as unknown.
    const result = (await db.execute(query)) as unknown as { rows: Row[] };
    return result.rows;
  } catch (error) {
    throw toDatabaseError(error);
  }
}

// PostgreSQL's bigint and numeric reach JS as strings (node-postgres) or bigint (PGlite);
// the counts and percentages here are far below 2^53, so plain numbers are exact enough.
export const num = (v: unknown): number => Number(v);
export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));
