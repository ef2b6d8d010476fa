import { LOAD_EXTENSION_LIBRARIES } from "../migrations/extension-libraries.js";
import { BREAKPOINT } from "../migrations/files.js";
import { sameStatements } from "./split-sql.js";
import { matches, type SqlOrder, type SqlSource } from "./sql-sources.js";
import type { SqlState } from "./sql-state.js";

/** What a migration from sql/ does: which files, why, and its statements both ways. */
export interface SqlPlan {
  /** New in sql/ORDER: their up is applied. */
  added: string[];
  /** Whose statements (up or down) differ from the last migration's: their up is applied again. */
  changed: string[];
  /** Applied again because sql/ORDER says `rerun-after:` a file that is added, changed or dropped. */
  rerun: Array<{ file: string; after: string[] }>;
  /** `removed <file> down`: the @down it had in the last migration runs. */
  dropped: string[];
  /** `removed <file> keep`: nothing runs; the file leaves the state. */
  kept: string[];
  /** `removed` lines for files no migration knows (any more): they can be deleted from sql/ORDER. */
  staleRemovedLines: string[];
  /** Sections of the migration, in order: a label, then statements. */
  up: Section[];
  rollback: Section[];
  /** sql/ as this migration leaves it. */
  state: SqlSource[];
}

export interface Section {
  label: string;
  statements: string[];
}

/**
 * Compares sql/ (sources, in ORDER) with the state the last migration left it in, and plans a
 * migration holding only the difference; undefined when there is none (nothing to emit).
 *
 * Up: the @down of each dropped file (last first, as the previous state ordered them), then the
 * up of every added, changed or re-run file in sql/ORDER. Rollback: the current @down of those
 * files (last first), then the previous up of each of them that existed before and of each
 * dropped file, in the previous order. So a rollback removes what this version created and
 * restores the previous version exactly, dependents included (a function's DROP takes its
 * grants, and the grants file re-runs after it).
 */
export async function planSqlMigration(previous: SqlState, sources: SqlSource[], order: SqlOrder): Promise<SqlPlan | undefined> {
  const before = new Map(previous.files.map((f) => [f.file, f]));
  const now = new Set(sources.map((s) => s.file));
  const added: string[] = [];
  const changed: string[] = [];
  for (const source of sources) {
    const old = before.get(source.file);
    if (!old) added.push(source.file);
    else if (!(await sameStatements(old.up, source.up)) || !(await sameStatements(old.down, source.down))) changed.push(source.file);
  }
  const gone = previous.files.filter((f) => !now.has(f.file)).map((f) => f.file);
  const undecided = gone.filter((f) => !order.removed.has(f));
  if (undecided.length) {
    throw new Error(
      `sql/ORDER no longer lists ${undecided.join(", ")}, which ${previous.migration} applied. Say what happens to ` +
        `${undecided.length > 1 ? "their" : "its"} objects with a line in sql/ORDER: "removed <file> down" (the next ` +
        `migration runs the @down it had) or "removed <file> keep" (the objects stay, e.g. now declared in src/schema).`,
    );
  }
  const dropped = gone.filter((f) => order.removed.get(f) === "down");
  const kept = gone.filter((f) => order.removed.get(f) === "keep");
  const staleRemovedLines = [...order.removed.keys()].filter((f) => !before.has(f));

  // Re-runs, in order: a file re-runs after anything before it that this migration touches.
  const touched = new Set([...added, ...changed, ...dropped]);
  const rerun: SqlPlan["rerun"] = [];
  for (const file of order.files) {
    if (touched.has(file)) continue;
    const patterns = order.rerunAfter.get(file) ?? [];
    const after = [...touched].filter((t) => patterns.some((p) => matches(p, t)));
    if (after.length) {
      rerun.push({ file, after });
      touched.add(file);
    }
  }
  const reasons = new Map<string, string>([
    ...added.map((f) => [f, "new"] as const),
    ...changed.map((f) => [f, "changed"] as const),
    ...rerun.map((r) => [r.file, `re-run after ${r.after.join(", ")}`] as const),
  ]);
  const applied = sources.filter((s) => reasons.has(s.file));
  if (applied.length === 0 && dropped.length === 0) return undefined;

  const since = previous.migration ? ` as drizzle/${previous.migration}.sql left it` : "";
  const up: Section[] = [
    { label: "", statements: [LOAD_EXTENSION_LIBRARIES] },
    ...[...previous.files]
      .reverse()
      .filter((f) => dropped.includes(f.file))
      .map((f) => ({ label: `-- sql/${f.file}: removed from sql/ORDER, its @down${since}`, statements: f.down })),
    ...applied.map((s) => ({ label: `-- sql/${s.file} (${reasons.get(s.file)})`, statements: s.up })),
  ];
  const rollback: Section[] = [
    { label: "", statements: [LOAD_EXTENSION_LIBRARIES] },
    ...[...applied].reverse().map((s) => ({ label: `-- sql/${s.file}: its @down`, statements: s.down })),
    ...previous.files
      .filter((f) => reasons.has(f.file) || dropped.includes(f.file))
      .map((f) => ({ label: `-- sql/${f.file}${since}`, statements: f.up })),
  ];
  return { added, changed, rerun, dropped, kept, staleRemovedLines, up, rollback, state: sources };
}

/** Sections joined with Drizzle's breakpoint; a label is a comment line before its first statement. */
export function renderSections(sections: Section[]): string {
  const chunks = sections.flatMap((section) =>
    section.statements.map((statement, i) => (i === 0 && section.label ? `${section.label}\n${statement}` : statement)),
  );
  return chunks.join(`\n${BREAKPOINT}\n`) + "\n";
}
