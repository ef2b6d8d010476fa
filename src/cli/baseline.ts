import { baseline } from "../migrations/baseline.js";
import type { Command } from "./commands.js";
import { openReference } from "./reference.js";

/** `sensa-db baseline`: adopt a database built without these migrations (see migrations/baseline.ts). */
export const baselineCommand: Command = {
  summary: "record migrations as applied on a database built without them, if its schema matches",
  usage: `Usage: sensa-db baseline [--to <name>] [--reference-url <url>] [--url <url>] [--json]

For a database whose schema was built outside these migrations (by hand, psql, older scripts):
records the migrations up to --to (default: all of drizzle/) as applied without running them,
logged in migrations_log with applied_via "baseline", so that migrate applies only later ones.
It first builds the expected schema in a scratch database, as verify does, and refuses (exit 1,
nothing recorded) if the live schema differs, listing the differences; also if the database
already has migrations recorded.
  --to <name>              the last migration this database already has
  --reference-url <url>    an empty database to build the expected schema in (default: a
                           scratch database on the same server, or in memory when embedded)`,
  options: { to: { type: "string" }, "reference-url": { type: "string" } },
  async run(ctx) {
    const reference = await openReference(ctx.db, ctx.target, ctx.values["reference-url"] as string | undefined);
    try {
      const result = await baseline(ctx.db, { reference: reference.db, to: ctx.values.to as string | undefined });
      const text = `the schema matches the migrations (built in ${reference.description}); recorded as applied without running them:\n${result.recorded.map((m) => `  = ${m}`).join("\n")}`;
      console.log(ctx.json ? JSON.stringify({ ok: true, ...result, reference: reference.description }, null, 2) : text);
      return 0;
    } finally {
      await reference.dispose();
    }
  },
};
