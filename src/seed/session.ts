import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { isEmbedded, type Database } from "../connection.js";
import { queryRows } from "../db/query.js";

/** The seed's one transaction: every statement of a seed runs in it, so a seed commits whole or not at all. */
export interface SeedSession {
  run(query: SQL | string): Promise<Array<Record<string, unknown>>>;
  /**
   * Streams binary COPY data (header, rows, trailer) into `statement` (`COPY … FROM STDIN (FORMAT
   * binary)`); resolves once the server has stored every row. Only over a socket to a server:
   * undefined on PGlite, which has no COPY FROM STDIN.
   */
  copy?: (statement: string, chunks: readonly Buffer[]) => Promise<void>;
}

const dialect = new PgDialect();

/**
 * Runs `fn` in one transaction: on a server on one connection of the pool (COMMIT when `fn`
 * resolves, ROLLBACK when it throws; a connection that dies takes the transaction with it, as
 * PostgreSQL rolls back whatever a vanished client left open), on PGlite through Drizzle's.
 */
export async function inSeedTransaction<T>(db: Database, fn: (session: SeedSession) => Promise<T>): Promise<T> {
  if (isEmbedded(db))
    return db.transaction((tx) => fn({ run: (q) => queryRows(tx, typeof q === "string" ? sql.raw(q) : q) }));
  const client = await (db.$client as pg.Pool).connect();
  let failure: unknown;
  try {
    await client.query("BEGIN");
    const result = await fn({
      run: async (q) => {
        const { sql: text, params } = typeof q === "string" ? { sql: q, params: [] } : dialect.sqlToQuery(q);
        return (await client.query(text, params)).rows as Array<Record<string, unknown>>;
      },
      copy: (statement, chunks) => pipeline(Readable.from(chunks), client.query(copyFrom(statement))),
    });
    await client.query("COMMIT");
    return result;
  } catch (error) {
    failure = error;
    // Undoes the seed's DDL and rows at once; fails harmlessly on a connection that is gone.
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    // A connection that failed mid-COPY may hold protocol state the pool must not hand out again.
    client.release(failure === undefined ? undefined : true);
  }
}
