/** PostgreSQL's SQLSTATE beneath Drizzle's "Failed query" wrapper, if there is one. */
export function sqlState(error: unknown): string | undefined {
  let e: unknown = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

export const INSUFFICIENT_PRIVILEGE = "42501";
/** object_not_in_prerequisite_state: e.g. pg_stat_statements not in shared_preload_libraries. */
export const NOT_IN_PREREQUISITE_STATE = "55000";
