import { is, type SQLWrapper } from "drizzle-orm";
import { NodePgSession } from "drizzle-orm/node-postgres";
import type { Queryable } from "./transaction.js";
import { toDatabaseError } from "./database-errors.js";

export type Row = Record<string, unknown>;

/**
 * Runs a query and returns its rows, the same way on node-postgres and PGlite; a failure is the
 * typed DatabaseError it stands for, so every wrapper throws those inside a context or not.
 */
export async function queryRows(db: Queryable, query: SQLWrapper | string): Promise<Row[]> {
  try {
    // Both drivers return { rows }, but PgDatabase types execute() generically as unknown.
    const result = (await db.execute(query)) as unknown as { rows: Row[] };
    return result.rows;
  } catch (error) {
    throw toDatabaseError(error);
  }
}

/** What both drivers under a Queryable answer: a pg Pool, PoolClient or context gate, or a PGlite. */
interface Driver {
  query(text: string, params: unknown[]): Promise<{ rows: Row[] }>;
  query(config: { text: string; values: unknown[]; queryMode: "extended" }): Promise<{ rows: Row[] }>;
}

/**
 * The driver under a database or transaction, and whether it is node-postgres (a server) or
 * PGlite. Drizzle keeps it on its session; inside a context that is the context's gate, which
 * refuses queries once the context ended, so going to it directly keeps that guarantee.
 */
export function driverOf(db: Queryable): { driver: Driver; server: boolean } {
  const session = db._.session;
  return { driver: (session as unknown as { client: Driver }).client, server: is(session, NodePgSession) };
}

/**
 * Sends one parameterised statement straight to the driver, without building it through
 * Drizzle's `sql` template each call: for statements whose text is fixed (the SQL function
 * calls), this is the whole per-call cost left besides the round trip. Errors as `queryRows`.
 */
export async function queryText(db: Queryable, text: string, params: unknown[]): Promise<Row[]> {
  try {
    const { driver, server } = driverOf(db);
    // One statement per query, so a text can never carry a second statement (a COMMIT) past a
    // context's gate: node-postgres takes the extended protocol for a query with parameters, and
    // for one without only when told (queryMode); (text, params) is the cheaper call by ~6-8 µs
    // (bench/overhead.ts's instrument). PGlite's query is one statement anyway.
    if (server && params.length === 0)
      return (await driver.query({ text, values: params, queryMode: "extended" })).rows;
    return (await driver.query(text, params)).rows;
  } catch (error) {
    throw toDatabaseError(error);
  }
}

// PostgreSQL's bigint and numeric reach JS as strings (node-postgres) or bigint (PGlite);
// the counts and percentages here are far below 2^53, so plain numbers are exact enough.
export const num = (v: unknown): number => Number(v);
export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
// A timestamptz is a Date from the drivers' own parsers and a string through Drizzle's.
export const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));
export const dateOrNull = (v: unknown): Date | null =>
  v === null || v === undefined ? null : new Date(v as string | Date);

/** An identifier quoted for SQL (`"uuid-ossp"`, `"courseId"`), for statements built from names. */
export const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;
