import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BREAKPOINT, defaultMigrationsFolder, NO_TRANSACTION_MARKER } from "../src/migrations/files.js";
import { markerStatement } from "../src/migrations/marker.js";

/** A copy of drizzle/ in a temporary folder, for migrations a test adds; removed by `remove`. */
export function copyOfDrizzle(): { folder: string; remove(): void } {
  const folder = join(mkdtempSync(join(tmpdir(), "sensa-drizzle-")), "drizzle");
  cpSync(defaultMigrationsFolder(), folder, { recursive: true });
  return { folder, remove: () => rmSync(dirname(folder), { recursive: true, force: true }) };
}

/** Appends a migration to the copy's journal, ending with the marker that names it, as db:generate writes it. */
export function addMigration(
  folder: string,
  tag: string,
  statements: string[],
  options: { noTransaction?: boolean; rollback?: string[] } = {},
): void {
  const journalPath = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8"));
  const last = journal.entries.at(-1);
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag });
  writeFileSync(journalPath, JSON.stringify(journal));
  const header = options.noTransaction ? `${NO_TRANSACTION_MARKER}\n` : "";
  writeFileSync(
    join(folder, `${tag}.sql`),
    header + [...statements, markerStatement(tag)].join(`\n${BREAKPOINT}\n`) + "\n",
  );
  if (options.rollback)
    writeFileSync(join(folder, "rollback", `${tag}.sql`), options.rollback.join(`\n${BREAKPOINT}\n`) + "\n");
}
