#!/usr/bin/env node
/**
 * sensa-db: migrate, inspect and check a Sensa Learn database.
 * Uses --url, DATABASE_URL or libpq's PG* variables (resolved as createDb resolves them), else an
 * embedded database in ./.sensa-db (never in production). Commands: src/cli/commands/.
 */
import { describeFailure } from "./failure.js";
import { runCli } from "./run.js";

try {
  process.exitCode = await runCli(process.argv.slice(2));
} catch (error) {
  // runCli reports a command's errors itself; this is for one closing the connection, say.
  console.error(`sensa-db: ${describeFailure(error).message}`);
  process.exitCode = 1;
}
