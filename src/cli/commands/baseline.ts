import { baseline } from "../../migrations/baseline.js";
import { defineCommand, print } from "../command.js";
import { openReference } from "../reference.js";

/** `sensa-db baseline`: adopt a database built without these migrations (the library's `baseline`, migrations/baseline.ts). */
export const baselineCommand = defineCommand({
  name: "baseline",
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
  async handler(ctx, options) {
    const reference = await openReference(ctx.db, ctx.target, options["reference-url"]);
    try {
      const result = await baseline(ctx.db, { reference: reference.db, to: options.to });
      const text = `the schema matches the migrations (built in ${reference.description}); recorded as applied without running them:\n${result.recorded.map((m) => `  = ${m}`).join("\n")}`;
      print(ctx, { ok: true, ...result, reference: reference.description }, text);
      return 0;
    } finally {
      await reference.dispose();
    }
  },
});
