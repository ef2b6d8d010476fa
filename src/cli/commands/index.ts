import type { Command } from "../command.js";
import { appLoginCommand } from "./app-login.js";
import { baselineCommand } from "./baseline.js";
import { demoCommand } from "./demo.js";
import { inspectCommand } from "./inspect.js";
import { maintainCommand } from "./maintain.js";
import { migrateCommand } from "./migrate.js";
import { rollbackCommand } from "./rollback.js";
import { seedCommand } from "./seed.js";
import { statusCommand } from "./status.js";
import { verifyCommand } from "./verify.js";

/** Every command, in the order `sensa-db --help` lists them. */
export const COMMANDS: readonly Command[] = [
  migrateCommand,
  statusCommand,
  rollbackCommand,
  verifyCommand,
  seedCommand,
  appLoginCommand,
  demoCommand,
  inspectCommand,
  maintainCommand,
  baselineCommand,
];
