import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";
import { BaselineRefusedError } from "../db/errors.js";
import { ensureBookkeeping, readApplied, recordApplied } from "./applied.js";
import { catalogSnapshot, diffCatalogs, isClean, type CatalogDiff } from "./catalog.js";
import { readMigrations } from "./files.js";
import { migrate } from "./migrate.js";
import { withLockedSession } from "./session.js";

export interface BaselineOptions {
  /**
   * An empty database (extensions available) to build the expected schema in: it is migrated
   * up to `to`. The caller owns and disposes of it, as with `verify`.
   */
  reference: Database;
  /** The last migration the live database already has; default: the last one in drizzle/. */
  to?: string;
  migrationsFolder?: string;
}

export interface BaselineResult {
  /** The migrations recorded as applied, in order. */
  recorded: string[];
  /** Empty: baseline refuses on any difference. Kept for reports. */
  drift: CatalogDiff;
}

/**
 * `applied_via` of the migrations_log rows a baseline writes: the migration is recorded as
 * applied (`direction` `up`, so status and verify treat it as any other) but was never run here.
 */
const BASELINE_APPLIED_VIA = "baseline";

/**
 * Adopts a database whose schema was built without these migrations (by hand, by psql, by the
 * platform's old scripts): records the migrations up to `to` as applied, without running them,
 * so that `migrate` then applies only what comes after. It first builds the expected schema in
 * `reference` (migrated up to `to`) and compares the live catalog with it, as `verify` does;
 * on any difference it refuses with BaselineRefusedError listing what is extra, missing or
 * changed, and records nothing. It also refuses a database that has migrations recorded
 * already (use `migrate` and `verify` there). Recording happens in one transaction under the
 * migration lock; each migration gets a migrations_log row with applied_via `baseline`.
 *
 * ```ts
 * const { recorded } = await baseline(db, { reference: await createEmbeddedDb(), to: "0002_sql_objects" });
 * ```
 */
export async function baseline(db: Database, options: BaselineOptions): Promise<BaselineResult> {
  const files = readMigrations(options.migrationsFolder);
  const last = options.to === undefined ? files.length - 1 : files.findIndex((f) => f.name === options.to);
  if (last === -1)
    throw new BaselineRefusedError(
      `--to ${options.to}: no migration has that name (${files.map((f) => f.name).join(", ")})`,
      undefined,
    );
  const adopted = files.slice(0, last + 1);
  await migrate(options.reference, { migrationsFolder: options.migrationsFolder, to: adopted.at(-1)!.name });
  const expected = await catalogSnapshot(options.reference);
  return withLockedSession(db, async (session) => {
    const applied = await readApplied(session);
    if (applied.length > 0) {
      throw new BaselineRefusedError(
        `this database already has ${applied.length} migration(s) recorded: baseline is for a database built without them. Use sensa-db migrate, and sensa-db verify to check for drift.`,
        undefined,
      );
    }
    const drift = diffCatalogs(await catalogSnapshot(session), expected);
    if (!isClean(drift)) {
      throw new BaselineRefusedError(
        [
          `refusing to baseline: the schema differs from what the migrations up to ${adopted.at(-1)!.name} build. Nothing was recorded. Differences:`,
          ...drift.extra.map((e) => `  + extra:   ${e}`),
          ...drift.missing.map((m) => `  - missing: ${m}`),
          ...drift.changed.map((c) => `  ~ changed: ${c}`),
        ].join("\n"),
        drift,
      );
    }
    await ensureBookkeeping(session);
    await session.transaction(async (tx) => {
      await tx.execute(sql`SELECT set_config('sensa.applied_via', ${BASELINE_APPLIED_VIA}, true)`);
      for (const migration of adopted) {
        // The log trigger names the row from this setting (the file's own marker never ran).
        await tx.execute(sql`SELECT set_config('sensa.migration_name', ${migration.name}, true)`);
        await recordApplied(tx, migration);
      }
    });
    return { recorded: adopted.map((m) => m.name), drift };
  });
}
