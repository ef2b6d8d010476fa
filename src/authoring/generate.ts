/**
 * `npm run db:generate [-- --name=<name>]`: brings drizzle/ up to date with src/schema and sql/.
 *
 * 1. drizzle-kit generate writes a migration for any change to the Drizzle schema.
 * 2. When sql/ differs from the last bundle migration, a new custom migration holds all of
 *    sql/ again (every file is idempotent, so re-applying the whole bundle is safe and a
 *    reader finds the current definition of every object in one migration).
 * 3. Each new migration gets the marker that names it in migrations_log, and its rollback in
 *    drizzle/rollback/<name>.sql: generated for schema and bundle migrations; a hand-written
 *    custom migration needs a hand-written rollback (test/migrations fails until it has one).
 *    A schema migration that only adds indexes becomes non-transactional, each index built
 *    CONCURRENTLY (writes go on during the build).
 * 4. squawk lints the new migrations and prints what it finds (CI fails on those findings).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateMigration } from "drizzle-kit/api";
import { BREAKPOINT, splitStatements } from "../migrations/files.js";
import { markerStatement } from "../migrations/marker.js";
import { LOAD_EXTENSION_LIBRARIES } from "../migrations/extension-libraries.js";
import { formatFinding, lintMigrations } from "../migrations/lint.js";
import { concurrentIndexMigration } from "../migrations/non-transactional.js";
import { bundleHash, joinStatements, readSqlSources, recordedBundleHash, renderBundle, renderTeardown } from "./sql-bundle.js";

const root = process.cwd();
const drizzleDir = join(root, "drizzle");
const journalPath = join(drizzleDir, "meta", "_journal.json");
type Journal = { entries: Array<{ idx: number; tag: string; when: number }> };
const readJournal = (): Journal => JSON.parse(readFileSync(journalPath, "utf8")) as Journal;
const migrationPath = (tag: string) => join(drizzleDir, `${tag}.sql`);
const rollbackPath = (tag: string) => join(drizzleDir, "rollback", `${tag}.sql`);

function drizzleKit(...args: string[]): void {
  execFileSync("npx", ["drizzle-kit", "generate", ...args], { stdio: "inherit", cwd: root });
}

const nameArg = process.argv.find((a) => a.startsWith("--name="));
const before = new Set(readJournal().entries.map((e) => e.tag));

drizzleKit(...(nameArg ? [nameArg] : []));

const sources = readSqlSources(join(root, "sql"));
const bundles = readJournal().entries.filter((e) => recordedBundleHash(readFileSync(migrationPath(e.tag), "utf8")));
const lastBundle = bundles.at(-1);
if (!lastBundle || recordedBundleHash(readFileSync(migrationPath(lastBundle.tag), "utf8")) !== bundleHash(sources)) {
  drizzleKit("--custom", "--name=sql_objects");
  const tag = readJournal().entries.at(-1)!.tag;
  writeFileSync(migrationPath(tag), renderBundle(sources));
  console.log(`sql/ changed: wrote drizzle/${tag}.sql`);
} else {
  console.log("sql/ unchanged since the last bundle migration");
}

const entries = readJournal().entries;
mkdirSync(join(drizzleDir, "rollback"), { recursive: true });
for (const entry of entries.filter((e) => !before.has(e.tag))) {
  const path = migrationPath(entry.tag);
  let text = readFileSync(path, "utf8");
  const concurrent = recordedBundleHash(text) ? undefined : concurrentIndexMigration(splitStatements(text));
  if (concurrent) {
    text = concurrent;
    console.log(`drizzle/${entry.tag}.sql only adds indexes: made non-transactional, each index built CONCURRENTLY`);
  }
  writeFileSync(path, `${text.trimEnd()}\n${BREAKPOINT}\n${markerStatement(entry.tag)}\n`);

  const rollback = await rollbackFor(entry, text);
  if (rollback === undefined) {
    console.log(`drizzle/${entry.tag}.sql is a hand-written migration: write its rollback in drizzle/rollback/${entry.tag}.sql`);
  } else if (!existsSync(rollbackPath(entry.tag))) {
    writeFileSync(rollbackPath(entry.tag), rollback);
    console.log(`wrote drizzle/rollback/${entry.tag}.sql`);
  }
}

lintNew(entries.filter((e) => !before.has(e.tag)).map((e) => e.tag));

/** squawk on the migrations just written: printed here, so they are reviewed before CI fails on them. */
function lintNew(tags: string[]): void {
  if (tags.length === 0) return;
  try {
    const { findings } = lintMigrations({ only: tags, migrationsFolder: drizzleDir, configDir: join(root, ".ci") });
    for (const f of findings) console.log(formatFinding(f));
    console.log(
      findings.length === 0
        ? `squawk: no findings in ${tags.join(", ")}`
        : `squawk: ${findings.length} finding(s) in ${tags.join(", ")}. CI fails on them: change the migration (e.g. an index alone in src/schema becomes a CONCURRENTLY migration), or, if safe, accept one in .ci/squawk-accepted.json with the reason.`,
    );
  } catch (error) {
    console.log(`squawk could not run: ${(error as Error).message}`);
  }
}

async function rollbackFor(entry: Journal["entries"][number], text: string): Promise<string | undefined> {
  const header = `-- Rollback of drizzle/${entry.tag}.sql, generated by npm run db:generate. Applied by sensa-db rollback.\n`;
  if (recordedBundleHash(text)) {
    // Remove what sql/ creates, then restore the previous bundle's definitions, if any.
    const previous = bundles.filter((b) => b.idx < entry.idx).at(-1);
    const restore = previous
      ? [
          LOAD_EXTENSION_LIBRARIES,
          ...splitStatements(readFileSync(migrationPath(previous.tag), "utf8")).filter(
            (s) => !s.includes("sensa.migration_name") && s !== LOAD_EXTENSION_LIBRARIES,
          ),
        ]
      : [];
    return header + joinStatements([...renderTeardown(sources), ...restore]);
  }
  const snapshot = (idx: number) => join(drizzleDir, "meta", `${String(idx).padStart(4, "0")}_snapshot.json`);
  const cur = JSON.parse(readFileSync(snapshot(entry.idx), "utf8"));
  const prev = entry.idx > 0 ? JSON.parse(readFileSync(snapshot(entry.idx - 1), "utf8")) : undefined;
  if (!prev || JSON.stringify(prev.tables) + JSON.stringify(prev.enums) === JSON.stringify(cur.tables) + JSON.stringify(cur.enums)) {
    return undefined; // a custom migration: its snapshot equals the previous one
  }
  // The schema diff run backwards: from this migration's snapshot to the one before it.
  const statements = await generateMigration(cur, prev);
  return header + joinStatements(statements);
}
