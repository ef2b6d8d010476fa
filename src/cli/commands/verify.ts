import { verify, verifyAppliedChecksums, type VerifyResult } from "../../migrations/verify.js";
import { defineCommand, print } from "../command.js";
import { openReference } from "../reference.js";

/** `sensa-db verify`: the library's `verify` (migrations/verify.ts), with a scratch reference database. */
export const verifyCommand = defineCommand({
  name: "verify",
  summary: "check applied migrations' checksums and the live schema for drift",
  usage: `Usage: sensa-db verify [--reference-url <url>] [--url <url>] [--json]

Fails (exit 1) when an applied migration's file has been edited since, naming it, or when the
live schema differs from what the migrations build: objects extra, missing or changed.
The expected schema is built in a scratch database on the same server (or in memory for an
embedded database); --reference-url gives an empty database to use instead.`,
  options: { "reference-url": { type: "string" } },
  async handler(ctx, options) {
    await verifyAppliedChecksums(ctx.db); // needs no reference database, so it fails first
    const reference = await openReference(ctx.db, ctx.target, options["reference-url"]);
    try {
      const result = await verify(ctx.db, { reference: reference.db });
      print(
        ctx,
        { ok: result.clean, ...result, reference: reference.description },
        describeResult(result, reference.description),
      );
      return result.clean ? 0 : 1;
    } finally {
      await reference.dispose();
    }
  },
});

function describeResult(result: VerifyResult, builtIn: string): string {
  const upTo = result.lastApplied ?? "nothing";
  if (result.clean)
    return `ok: checksums match and the schema is what the migrations build (up to ${upTo}, built in ${builtIn})`;
  const { extra, missing, changed } = result.drift;
  return [
    `drift from the migrations (up to ${upTo}):`,
    ...extra.map((e) => `  + extra:   ${e}`),
    ...missing.map((m) => `  - missing: ${m}`),
    ...changed.map((c) => `  ~ changed: ${c}`),
  ].join("\n");
}
