import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SqlSource } from "./sql-sources.js";

/**
 * What the migrations have made of sql/: after each migration db:generate writes from sql/,
 * drizzle/meta/_sql/<migration>.json holds every file of sql/ as that migration left it (its
 * up and down statements, in sql/ORDER). The next db:generate compares sql/ with the newest
 * one, emits only what changed, and restores from it in the rollback. It sits beside
 * drizzle-kit's own snapshots; the `_` keeps drizzle-kit, which reads every other entry of
 * meta/ as a schema snapshot, away from it.
 */
export interface SqlState {
  /** The migration that left sql/ so; undefined before any. */
  migration: string | undefined;
  files: SqlSource[];
}

export interface Journal {
  version: string;
  dialect: string;
  entries: Array<{ idx: number; version: string; when: number; tag: string; breakpoints: boolean }>;
}

/** The first migrations bundled all of sql/ and name that state by this line (0002, 0003). */
export const BUNDLE_HASH_PREFIX = "-- sql/ bundle sha256: ";

export const sqlStatePath = (drizzleDir: string, migration: string) =>
  join(drizzleDir, "meta", "_sql", `${migration}.json`);

export const readJournal = (drizzleDir: string): Journal =>
  JSON.parse(readFileSync(join(drizzleDir, "meta", "_journal.json"), "utf8")) as Journal;

/** The bundle hash recorded in a migration file, if it is one of the whole-sql/ bundles. */
export function recordedBundleHash(migrationSql: string): string | undefined {
  const line = migrationSql.split("\n").find((l) => l.startsWith(BUNDLE_HASH_PREFIX));
  return line?.slice(BUNDLE_HASH_PREFIX.length).trim();
}

/**
 * sql/ as the newest migration of the journal that was written from it left it. A state
 * file of a migration no longer in the journal (dropped) is ignored, so the one before counts.
 */
export function latestSqlState(drizzleDir: string): SqlState {
  for (const entry of [...readJournal(drizzleDir).entries].reverse()) {
    const path = sqlStatePath(drizzleDir, entry.tag);
    if (existsSync(path)) {
      const state = JSON.parse(readFileSync(path, "utf8")) as { migration: string; files: SqlSource[] };
      return { migration: state.migration, files: state.files };
    }
    if (recordedBundleHash(readFileSync(join(drizzleDir, `${entry.tag}.sql`), "utf8"))) {
      throw new Error(
        `drizzle/${entry.tag}.sql bundles sql/ but drizzle/meta/_sql/${entry.tag}.json, the state it left sql/ in, is missing`,
      );
    }
  }
  return { migration: undefined, files: [] };
}

export function writeSqlState(drizzleDir: string, migration: string, files: SqlSource[]): void {
  mkdirSync(join(drizzleDir, "meta", "_sql"), { recursive: true });
  writeFileSync(sqlStatePath(drizzleDir, migration), JSON.stringify({ migration, files }, null, 2) + "\n");
}
