import { MigrationChecksumError, UnknownMigrationError } from "../db/errors.js";
import type { AppliedMigration } from "./applied.js";
import type { MigrationFile } from "./files.js";

/**
 * Drizzle records a hash per applied migration but never compares it again, so an edited
 * migration would silently diverge between databases. This is the comparison it skips.
 * Throws on the first applied migration whose file changed or is missing.
 */
export function verifyChecksums(files: MigrationFile[], applied: AppliedMigration[]): void {
  const byTime = new Map(files.map((f) => [f.journalTime, f]));
  for (const row of applied) {
    const file = byTime.get(row.journalTime);
    if (!file) throw new UnknownMigrationError(row.journalTime);
    if (file.hash !== row.hash) throw new MigrationChecksumError(file.name, row.hash, file.hash);
  }
}

/** Drizzle's rule: a migration is pending when it is newer than the newest applied one. */
export function pendingMigrations(files: MigrationFile[], applied: AppliedMigration[]): MigrationFile[] {
  const last = applied.reduce((max, a) => Math.max(max, a.journalTime), -Infinity);
  return files.filter((f) => f.journalTime > last);
}
