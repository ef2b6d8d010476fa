import type { Database } from "../connection.js";

/** A transaction handle, as `db.transaction` passes it: the same typed API as the database. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything a query can run on: the database or a transaction. */
export type Queryable = Database | Transaction;
