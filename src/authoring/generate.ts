/**
 * `npm run db:generate [-- --name=<name>]`: brings drizzle/ up to date with src/schema and sql/.
 *
 * 1. drizzle-kit generate writes a migration for any change to the Drizzle schema.
 * 2. When sql/ differs from the state the last migration left it in (drizzle/meta/_sql/), a
 *    custom migration holds only the files that changed, were added or dropped, and the files
 *    sql/ORDER re-runs after them, with its rollback (sql-migration.ts, sql-plan.ts).
 * 3. Each new schema migration gets the marker that names it in migrations_log, and its
 *    rollback in drizzle/rollback/<name>.sql, generated from the snapshots; a hand-written
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
import { formatFinding, lintMigrations } from "../migrations/lint.js";
import { concurrentIndexMigration } from "../migrations/non-transactional.js";
import { generateSqlMigration } from "./sql-migration.js";
import { readJournal, type Journal } from "./sql-state.js";

const root = process.cwd();
const drizzleDir = join(root, "drizzle");
const migrationPath = (tag: string) => join(drizzleDir, `${tag}.sql`);
const rollbackPath = (tag: string) => join(drizzleDir, "rollback", `${tag}.sql`);

function drizzleKit(...args: string[]): void {
  execFileSync("npx", ["drizzle-kit", "generate", ...args], { stdio: "inherit", cwd: root });
}

const nameArg = process.argv.find((a) => a.startsWith("--name="));
const before = new Set(readJournal(drizzleDir).entries.map((e) => e.tag));

drizzleKit(...(nameArg ? [nameArg] : []));
const schemaEntries = readJournal(drizzleDir).entries.filter((e) => !before.has(e.tag));

const fromSql = await generateSqlMigration({ sqlDir: join(root, "sql"), drizzleDir });
if (fromSql) {
  const { tag, plan } = fromSql;
  const list = (what: string, files: string[]) => (files.length ? [`${what}: ${files.join(", ")}`] : []);
  console.log(
    `sql/ changed: wrote drizzle/${tag}.sql and drizzle/rollback/${tag}.sql (` +
      [
        ...list("new", plan.added),
        ...list("changed", plan.changed),
        ...list(
          "re-run",
          plan.rerun.map((r) => r.file),
        ),
        ...list("@down of removed", plan.dropped),
        ...list("removed, objects kept", plan.kept),
      ].join("; ") +
      ")",
  );
  if (plan.staleRemovedLines.length) {
    console.log(
      `sql/ORDER: the "removed" lines for ${plan.staleRemovedLines.join(", ")} are done with and can be deleted`,
    );
  }
} else {
  console.log("sql/ unchanged since the last migration written from it");
}

mkdirSync(join(drizzleDir, "rollback"), { recursive: true });
for (const entry of schemaEntries) {
  const path = migrationPath(entry.tag);
  let text = readFileSync(path, "utf8");
  const concurrent = concurrentIndexMigration(splitStatements(text));
  if (concurrent) {
    text = concurrent;
    console.log(`drizzle/${entry.tag}.sql only adds indexes: made non-transactional, each index built CONCURRENTLY`);
  }
  writeFileSync(path, `${text.trimEnd()}\n${BREAKPOINT}\n${markerStatement(entry.tag)}\n`);

  const rollback = await rollbackFor(entry);
  if (rollback === undefined) {
    console.log(
      `drizzle/${entry.tag}.sql is a hand-written migration: write its rollback in drizzle/rollback/${entry.tag}.sql`,
    );
  } else if (!existsSync(rollbackPath(entry.tag))) {
    writeFileSync(rollbackPath(entry.tag), rollback);
    console.log(`wrote drizzle/rollback/${entry.tag}.sql`);
  }
}

lintNew([...schemaEntries.map((e) => e.tag), ...(fromSql ? [fromSql.tag] : [])]);

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

async function rollbackFor(entry: Journal["entries"][number]): Promise<string | undefined> {
  const header = `-- Rollback of drizzle/${entry.tag}.sql, generated by npm run db:generate. Applied by sensa-db rollback.\n`;
  const snapshot = (idx: number) => join(drizzleDir, "meta", `${String(idx).padStart(4, "0")}_snapshot.json`);
  const cur = JSON.parse(readFileSync(snapshot(entry.idx), "utf8"));
  const prev = entry.idx > 0 ? JSON.parse(readFileSync(snapshot(entry.idx - 1), "utf8")) : undefined;
  if (
    !prev ||
    JSON.stringify(prev.tables) + JSON.stringify(prev.enums) === JSON.stringify(cur.tables) + JSON.stringify(cur.enums)
  ) {
    return undefined; // a custom migration: its snapshot equals the previous one
  }
  // The schema diff run backwards: from this migration's snapshot to the one before it.
  const statements = await generateMigration(cur, prev);
  return header + statements.join(`\n${BREAKPOINT}\n`) + "\n";
}
