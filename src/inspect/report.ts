import { ValidationError } from "../db/errors.js";

/**
 * What every report returns: typed rows plus notes on what the connected role could not see
 * (a missing privilege narrows a report instead of failing it; a missing extension fails it
 * with InspectUnavailableError).
 */
export interface Report<Row> {
  rows: Row[];
  notes: string[];
}

export interface ListOptions {
  /** At most this many rows (default 20). */
  limit?: number;
}

const DEFAULT_LIMIT = 20;

export function limitOf(options: ListOptions | undefined): number {
  const limit = options?.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError(`limit must be a positive integer, got ${limit}`, [
      { path: "limit", message: "a positive integer" },
    ]);
  }
  return limit;
}
