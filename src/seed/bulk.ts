import { sql, type SQL } from "drizzle-orm";
import { getTableConfig, type PgColumn } from "drizzle-orm/pg-core";
import { SensaDbError } from "../db/errors.js";
import { userOwnedTables } from "../schema/user-owned.js";
import { referencesTo } from "./inherit.js";
import type { SeedSession } from "./session.js";

/** The trigger sql/triggers/inherit_owner.sql puts on every table with `inherit` in userOwnedTables. */
const INHERIT_TRIGGER = "inherit_owner";

/**
 * Memory for rebuilding the secondary indexes and for validating the foreign keys (PostgreSQL
 * runs each validating join with work_mem raised to maintenance_work_mem). 256MB sorts a
 * million-row btree in memory; the HNSW rebuild sets its own afterwards.
 */
const RESTORE_MAINTENANCE_WORK_MEM = "256MB";

/** What a bulk load suspended and put back, and the seconds the putting back took. */
export interface BulkRestore {
  /** Everything below, end to end. */
  seconds: number;
  /** Secondary indexes recreated (those that back no constraint; the HNSW ones are rebuilt separately). */
  indexes: number;
  indexSeconds: number;
  /** Foreign keys re-added, each validated in one scan of its table. */
  foreignKeys: number;
  foreignKeySeconds: number;
  /** `inherit_owner` triggers enabled again. */
  triggers: number;
  /** The set-based check of what those triggers would have enforced (checkInheritedOwners). */
  checkSeconds: number;
}

/**
 * A row written while its table's `inherit_owner` trigger was off does not carry what the trigger
 * would have made it carry: its copied columns differ from its parent's, its parent is missing,
 * or a row it points at belongs to another user. Thrown by checkInheritedOwners; the seed's
 * transaction then rolls back.
 */
export class InheritedOwnerMismatchError extends SensaDbError {
  constructor(
    /** One entry per check that found rows: the child table, the parent and its columns, how many rows. */
    readonly mismatches: ReadonlyArray<{ table: string; parent: string; columns: string[]; rows: number }>,
  ) {
    const [first] = mismatches;
    super(
      "INHERITED_OWNER_MISMATCH",
      `${mismatches.map((m) => `${m.rows} row(s) of ${m.table} do not match their ${m.parent} (${m.columns.join(", ")})`).join("; ")}: the ${INHERIT_TRIGGER} trigger of ${first?.table ?? "the table"} would have refused them`,
    );
  }
}

/**
 * PostgreSQL's "Populating a Database" recipe for a large load into `tables` (names), in the
 * caller's transaction, as the tables' owner with FORCE ROW LEVEL SECURITY lifted: disables their
 * `inherit_owner` triggers by name (any other trigger keeps running: it may compute data), drops
 * their foreign keys and the secondary indexes that back no constraint (HNSW excluded: indexes.ts
 * drops and rebuilds those). Every statement is transactional, so a seed that never commits
 * leaves each of them as it was. Returns the step that puts everything back exactly as the
 * catalog defined it (pg_get_indexdef, pg_get_constraintdef, NOT VALID included, same names and
 * comments), then checks set-based what the triggers would have enforced; it throws
 * InheritedOwnerMismatchError, or a ForeignKeyViolationError from a re-added key, when a row
 * breaks them.
 *
 * ```ts
 * const restore = await suspendForBulkLoad(s, ["courses", "course_documents"]);
 * // COPY …
 * const { seconds, foreignKeys } = await restore();
 * ```
 */
export async function suspendForBulkLoad(
  s: SeedSession,
  tables: readonly string[],
): Promise<() => Promise<BulkRestore>> {
  const relations = `{${tables.join(",")}}`;
  const triggers = await s.run(sql`
    SELECT format('ALTER TABLE %s DISABLE TRIGGER %I', t.tgrelid::regclass, t.tgname) AS disable,
      format('ALTER TABLE %s ENABLE %s TRIGGER %I', t.tgrelid::regclass, CASE t.tgenabled WHEN 'A' THEN 'ALWAYS' ELSE '' END, t.tgname) AS enable
    FROM pg_trigger t
    WHERE t.tgrelid = ANY(${relations}::regclass[]) AND t.tgname = ${INHERIT_TRIGGER} AND NOT t.tgisinternal
      AND t.tgenabled IN ('O', 'A')
    ORDER BY t.tgrelid`);
  const foreignKeys = await s.run(sql`
    SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname) AS drop,
      format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS add,
      CASE WHEN d.description IS NOT NULL
        THEN format('COMMENT ON CONSTRAINT %I ON %s IS %L', k.conname, k.conrelid::regclass, d.description) END AS comment
    FROM pg_constraint k
    LEFT JOIN pg_description d ON d.objoid = k.oid AND d.classoid = 'pg_constraint'::regclass
    WHERE k.contype = 'f' AND k.conrelid = ANY(${relations}::regclass[]) AND k.conparentid = 0
    ORDER BY k.conrelid, k.conname`);
  // A unique, primary or exclusion index enforces something during the load, and one a
  // constraint uses cannot be dropped alone; a clustered or replica-identity mark, or an index
  // not yet valid, would not come back from pg_get_indexdef.
  const indexes = await s.run(sql`
    SELECT format('DROP INDEX %s', x.indexrelid::regclass) AS drop, pg_get_indexdef(x.indexrelid) AS create,
      CASE WHEN d.description IS NOT NULL
        THEN format('COMMENT ON INDEX %s IS %L', x.indexrelid::regclass, d.description) END AS comment
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_am am ON am.oid = i.relam
    LEFT JOIN pg_description d ON d.objoid = x.indexrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    WHERE x.indrelid = ANY(${relations}::regclass[]) AND am.amname <> 'hnsw'
      AND NOT x.indisunique AND NOT x.indisprimary AND NOT x.indisexclusion
      AND x.indisvalid AND x.indisready AND NOT x.indisclustered AND NOT x.indisreplident
      AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)
    ORDER BY x.indrelid, i.relname`);
  const text = (row: Record<string, unknown>, key: string) => String(row[key]);

  for (const t of triggers) await s.run(text(t, "disable"));
  for (const k of foreignKeys) await s.run(text(k, "drop"));
  for (const i of indexes) await s.run(text(i, "drop"));

  return async () => {
    const started = performance.now();
    await s.run(`SET LOCAL maintenance_work_mem = '${RESTORE_MAINTENANCE_WORK_MEM}'`);
    for (const i of indexes) {
      await s.run(text(i, "create"));
      if (i.comment) await s.run(text(i, "comment"));
    }
    const indexesDone = performance.now();
    for (const k of foreignKeys) {
      await s.run(text(k, "add"));
      if (k.comment) await s.run(text(k, "comment"));
    }
    const keysDone = performance.now();
    for (const t of triggers) await s.run(text(t, "enable"));
    const checkStarted = performance.now();
    await checkInheritedOwners(s);
    const done = performance.now();
    return {
      seconds: (done - started) / 1000,
      indexes: indexes.length,
      indexSeconds: (indexesDone - started) / 1000,
      foreignKeys: foreignKeys.length,
      foreignKeySeconds: (keysDone - indexesDone) / 1000,
      triggers: triggers.length,
      checkSeconds: (done - checkStarted) / 1000,
    };
  };
}

/** One check: the rows of `table` whose reference through `columns` to `parent` breaks the trigger's rule. */
interface OwnerCheck {
  table: string;
  parent: string;
  columns: string[];
  /** A query counting them. */
  count: SQL;
}

/**
 * The set-based form of every `inherit_owner` trigger, derived from userOwnedTables and the
 * tables' foreign keys: for `inherit.from`, each row's reference to its parent must find a parent
 * whose `copies` columns equal the row's (relationships: both keywords, source and target, as the
 * trigger requires); for `inherit.checks`, each non-NULL reference must find a row of the same
 * owner. Only the rows this transaction wrote are checked (the trigger saw every other row when it
 * was written). Run it where row-level security hides no row (the seed lifts FORCE): hidden rows
 * are not checked. Throws InheritedOwnerMismatchError naming each table and its count.
 *
 * ```ts
 * await checkInheritedOwners(s); // after a load with the triggers disabled
 * ```
 */
export async function checkInheritedOwners(s: SeedSession): Promise<void> {
  const checks = ownerChecks();
  if (!checks.length) return;
  const rows = await s.run(
    sql.join(
      checks.map((c, i) => sql`SELECT ${i}::int AS k, (${c.count})::int AS n`),
      sql` UNION ALL `,
    ),
  );
  const mismatches = rows
    .filter((r) => Number(r.n) > 0)
    .map((r) => {
      const c = checks[Number(r.k)]!;
      return { table: c.table, parent: c.parent, columns: c.columns, rows: Number(r.n) };
    });
  if (mismatches.length) throw new InheritedOwnerMismatchError(mismatches);
}

const id = (name: string) => sql.identifier(name);
const col = (alias: string, column: PgColumn) => sql`${id(alias)}.${id(column.name)}`;

function ownerChecks(): OwnerCheck[] {
  const ownerOf = new Map(userOwnedTables.map((t) => [t.table, t.owner]));
  return userOwnedTables.flatMap(({ table, owner, inherit }) => {
    if (!inherit) return [];
    const parents = "from" in inherit ? [inherit.from] : inherit.checks;
    return parents.flatMap((parent) =>
      referencesTo(table, parent).map(({ columns, foreignColumns }) => {
        const join = sql.join(
          columns.map((c, i) => sql`${col("p", foreignColumns[i]!)} = ${col("c", c)}`),
          sql` AND `,
        );
        const missing = sql`${col("p", foreignColumns[0]!)} IS NULL`;
        let broken: SQL;
        if ("from" in inherit) {
          // The trigger overwrites the copies from the parent, and refuses a row with none.
          const differs = inherit.copies.map((name) => sql`${id("c")}.${id(name)} IS DISTINCT FROM p.${id(name)}`);
          broken = sql.join([missing, ...differs], sql` OR `);
        } else {
          // NULL references nothing; anything else must be a row of the same owner.
          const referencing = sql.join(
            columns.map((c) => sql`${col("c", c)} IS NOT NULL`),
            sql` AND `,
          );
          broken = sql`${referencing} AND (${missing} OR ${col("p", ownerOf.get(parent)!)} IS DISTINCT FROM ${col("c", owner)})`;
        }
        return {
          table: getTableConfig(table).name,
          parent: getTableConfig(parent).name,
          columns: columns.map((c) => c.name),
          count: sql`SELECT count(*) FROM ${id(getTableConfig(table).name)} c LEFT JOIN ${id(getTableConfig(parent).name)} p ON ${join} WHERE c.xmin = pg_current_xact_id()::xid AND (${broken})`,
        };
      }),
    );
  });
}
