/** What PostgreSQL said, beneath Drizzle's "Failed query" wrapper. */
export interface PgErrorFields {
  message: string;
  code?: string;
  constraint?: string;
}

/** Awaits a promise that must reject, and returns the innermost cause (PostgreSQL's error). */
export async function pgErrorOf(promise: Promise<unknown>): Promise<PgErrorFields> {
  try {
    await promise;
  } catch (error) {
    let e: unknown = error;
    while (e instanceof Error && e.cause instanceof Error) e = e.cause;
    return e as PgErrorFields;
  }
  throw new Error("expected the database to reject this, but it succeeded");
}
