import { defineCommand } from "../command.js";
import { runDemo } from "../demo.js";

/** `sensa-db demo` (`npm start`): runDemo (cli/demo.ts), on an in-memory database by default. */
export const demoCommand = defineCommand({
  name: "demo",
  summary: "migrate, seed a little, and show every function and RLS at work",
  inMemoryByDefault: true,
  usage: `Usage: sensa-db demo [--url <url>]

Runs on an in-memory embedded database unless --url, DATABASE_URL or --dir is given. On a
server it removes the users it created (and everything they own) at the end.`,
  options: {},
  async handler(ctx) {
    await runDemo(ctx.db);
    return 0;
  },
});
