import type { PgTable } from "drizzle-orm/pg-core";
import * as schema from "../schema/index.js";
import type { UserBatch } from "./generate.js";

/** Parents before children: the order the foreign keys and the owner-copying triggers need. */
export const LOAD_ORDER: Array<[keyof UserBatch, PgTable]> = [
  ["users", schema.users],
  ["user_profiles", schema.userProfiles],
  ["courses", schema.courses],
  ["course_documents", schema.courseDocuments],
  ["processed_documents", schema.processedDocuments],
  ["chapters", schema.chapters],
  ["keywords", schema.keywords],
  ["relationships", schema.relationships],
  ["user_annotations", schema.userAnnotations],
  ["user_progress", schema.userProgress],
];

export type TableName = keyof UserBatch;

/** Rows a flush wrote to one table and the seconds its statements took on the server. */
export type TableTimes = Partial<Record<TableName, { rows: number; seconds: number }>>;

/**
 * How generated rows reach the database. `add` takes one user's rows (the loader encodes or keeps
 * them); `flush` sends everything added so far, table by table in LOAD_ORDER, and resolves when
 * the server has stored it. `flush` takes what it sends synchronously, so the next users can be
 * added (generated) while it runs: the client's work and the server's overlap.
 */
export interface Loader {
  add(batch: UserBatch): void;
  /** Bytes (or an estimate) added since the last flush. */
  readonly pendingBytes: number;
  flush(): Promise<TableTimes>;
}

/** Each row's values in `keys` order (a missing property is NULL, as in the INSERT path). */
export function rowsOf(batch: UserBatch, name: TableName): Array<Record<string, unknown>> {
  // Each list holds the insert type of its own table; LOAD_ORDER pairs them.
  return batch[name] as unknown as Array<Record<string, unknown>>;
}
