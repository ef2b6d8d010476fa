import { LOAD_EXTENSION_LIBRARIES } from "../migrations/extension-libraries.js";
import { BREAKPOINT } from "../migrations/files.js";
import { sameStatements, statementShape } from "./split-sql.js";
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
 * Up, in one transaction: last file first, the @down of each dropped file and, of each changed
 * file, the @down statements its new version no longer has (objects it stopped creating); then
 * the up of every added, changed or re-run file, in sql/ORDER.
 * Rollback: last file first, the @down of each added file and, of each changed file, the @down
 * statements its previous version did not have (objects only this version creates); then the
 * previous up of every changed, re-run and dropped file, in the previous order. So the rollback
 * restores the previous versions exactly, dependents included (a function's DROP + CREATE
 * takes its grants, and the grants file re-runs after it), and leaves alone what it does not
 * redefine: re-run files are applied again, not taken down.
 */
export async function planSqlMigration(
  previous: SqlState,
  sources: SqlSource[],
  order: SqlOrder,
): Promise<SqlPlan | undefined> {
  const before = new Map(previous.files.map((f) => [f.file, f]));
  const now = new Set(sources.map((s) => s.file));
  const added: string[] = [];
  const changed: string[] = [];
  for (const source of sources) {
    const old = before.get(source.file);
    if (!old) added.push(source.file);
    else if (!(await sameStatements(old.up, source.up)) || !(await sameStatements(old.down, source.down)))
      changed.push(source.file);
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
  const current = new Map(sources.map((s) => [s.file, s]));
  const up: Section[] = [{ label: "", statements: [LOAD_EXTENSION_LIBRARIES] }];
  for (const old of [...previous.files].reverse()) {
    if (dropped.includes(old.file)) {
      up.push({ label: `-- sql/${old.file}: removed from sql/ORDER, its @down${since}`, statements: old.down });
    } else if (changed.includes(old.file)) {
      const stopped = await onlyIn(old.down, current.get(old.file)!.down);
      up.push({
        label: `-- sql/${old.file}: the @down statements of its previous version that this one no longer has`,
        statements: stopped,
      });
    }
  }
  up.push(...applied.map((s) => ({ label: `-- sql/${s.file} (${reasons.get(s.file)})`, statements: s.up })));

  const rollback: Section[] = [{ label: "", statements: [LOAD_EXTENSION_LIBRARIES] }];
  for (const s of [...applied].reverse()) {
    if (added.includes(s.file)) rollback.push({ label: `-- sql/${s.file}: new, its @down`, statements: s.down });
    else if (changed.includes(s.file)) {
      const extra = await onlyIn(s.down, before.get(s.file)!.down);
      rollback.push({
        label: `-- sql/${s.file}: the @down statements of this version that its previous one did not have`,
        statements: extra,
      });
    }
  }
  for (const old of previous.files.filter((f) => reasons.has(f.file) || dropped.includes(f.file))) {
    rollback.push({ label: `-- sql/${old.file}${since}`, statements: old.up });
  }
  return { added, changed, rerun, dropped, kept, staleRemovedLines, up, rollback, state: sources };
}

/**
 * The statements of `a` that `b` does not have (by statementShape): of a file's @down, those
 * removing objects only one of its versions creates. The objects both versions create are not
 * dropped: applying the other version's up redefines them (CREATE OR REPLACE, or DROP IF
 * EXISTS and CREATE), so what depends on them outside the migration (a policy calling a
 * function) does not stand in the way, and grants or settings made outside sql/ stay.
 */
async function onlyIn(a: string[], b: string[]): Promise<string[]> {
  const shapes = new Set(await Promise.all(b.map(statementShape)));
  const out: string[] = [];
  for (const statement of a) if (!shapes.has(await statementShape(statement))) out.push(statement);
  return out;
}

/** Sections joined with Drizzle's breakpoint; a label is a comment line before its first statement. */
export function renderSections(sections: Section[]): string {
  const chunks = sections.flatMap((section) =>
    section.statements.map((statement, i) => (i === 0 && section.label ? `${section.label}\n${statement}` : statement)),
  );
  return chunks.join(`\n${BREAKPOINT}\n`) + "\n";
}
