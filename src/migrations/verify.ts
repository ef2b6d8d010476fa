import type { Database } from "../connection.js";
import { readApplied } from "./applied.js";
import { catalogSnapshot, diffCatalogs, isClean, type CatalogDiff } from "./catalog.js";
import { verifyChecksums } from "./checksums.js";
import { readMigrations, type MigrationFile } from "./files.js";
import { migrate } from "./migrate.js";

export interface VerifyOptions {
  /**
   * An empty database (extensions available) to build the expected schema in; it is
   * migrated to the same migration as the live one. The caller owns and disposes of it.
   */
  reference: Database;
  migrationsFolder?: string;
}

export interface VerifyResult {
  /** The last migration the live database has applied. */
  lastApplied: string | null;
  drift: CatalogDiff;
  clean: boolean;
}

/**
 * Checks a live database against its migrations: first the checksums (throws
 * MigrationChecksumError naming an edited file), then drift: the live catalog compared with a
 * reference database migrated to the same point, listing objects extra, missing or changed.
 *
 * ```ts
 * const { clean, drift } = await verify(db, { reference: await createEmbeddedDb() });
 * ```
 */
export async function verify(db: Database, options: VerifyOptions): Promise<VerifyResult> {
  const last = await verifyAppliedChecksums(db, options.migrationsFolder);
  if (last) await migrate(options.reference, { migrationsFolder: options.migrationsFolder, to: last.name });
  const drift = diffCatalogs(await catalogSnapshot(db), await catalogSnapshot(options.reference));
  return { lastApplied: last?.name ?? null, drift, clean: isClean(drift) };
}

/**
 * The first half of `verify`, which needs no reference database: throws
 * MigrationChecksumError if an applied migration's file was edited, and returns the last
 * migration applied.
 */
export async function verifyAppliedChecksums(
  db: Database,
  migrationsFolder?: string,
): Promise<MigrationFile | undefined> {
  const files = readMigrations(migrationsFolder);
  const applied = await readApplied(db);
  verifyChecksums(files, applied);
  const times = new Set(applied.map((a) => a.journalTime));
  return files.filter((f) => times.has(f.journalTime)).at(-1);
}
