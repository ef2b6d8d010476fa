import { isConnectionLost } from "../db/database-errors.js";
import { SensaDbError } from "../db/errors.js";
import { pgMessage } from "../migrations/session.js";

/** What the CLI reports of an error: a code to switch on and a message for a person. */
export interface Failure {
  code: string;
  message: string;
}

/** One message for a person (no stack): ours when we threw one, else what PostgreSQL said. */
export function describeFailure(error: unknown): Failure {
  if (isConnectionLost(error)) {
    // What follows a killed session (a failed ROLLBACK, a failed unlock) only hides the cause.
    return {
      code: "CONNECTION_LOST",
      message: `the database connection was lost (${pgMessage(error)}). An open transaction was rolled back by the server; run "sensa-db status", then the command again.`,
    };
  }
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof SensaDbError) return { code: e.code, message: e.message };
  }
  return { code: "UNEXPECTED", message: pgMessage(error) };
}
