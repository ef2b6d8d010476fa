import { getTableColumns } from "drizzle-orm";
import { getTableConfig, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import { userOwnedTables } from "../schema/user-owned.js";
import type { UserBatch } from "./generate.js";
import { LOAD_ORDER, rowsOf, type TableName } from "./load.js";

/** One `inherit.from` rule as properties of the rows: look the parent up by `reference`, copy `copies`. */
interface Fill {
  child: TableName;
  parent: TableName;
  /** The child's property holding the parent's key, and the parent's key property. */
  reference: { childKey: string; parentKey: string };
  copies: Array<{ childKey: string; parentKey: string }>;
}

/** The foreign keys from `table` to `parent`, as Drizzle declares them. */
export function referencesTo(
  table: PgTable,
  parent: PgTable,
): Array<{ columns: PgColumn[]; foreignColumns: PgColumn[] }> {
  return getTableConfig(table)
    .foreignKeys.map((fk) => fk.reference())
    .filter((r) => r.foreignTable === parent)
    .map((r) => ({ columns: r.columns, foreignColumns: r.foreignColumns }));
}

const batchName = new Map<PgTable, TableName>(LOAD_ORDER.map(([name, table]) => [table, name]));

/** The property of `table`'s rows that holds the column named `column`. */
function keyOf(table: PgTable, column: string): string {
  const hit = Object.entries(getTableColumns(table)).find(([, c]) => c.name === column);
  if (!hit) throw new TypeError(`${getTableConfig(table).name} has no column ${column}`);
  return hit[0];
}

/**
 * Derived from userOwnedTables: for each `inherit.from`, the first foreign key to the parent (the
 * one the trigger reads: relationships' source keyword) and the copied columns.
 */
const FILLS: Fill[] = userOwnedTables.flatMap(({ table, inherit }) => {
  if (!inherit || !("from" in inherit)) return [];
  const child = batchName.get(table);
  const parent = batchName.get(inherit.from);
  const fk = referencesTo(table, inherit.from).find((r) => r.columns.length === 1);
  if (!child || !parent || !fk) return [];
  return [
    {
      child,
      parent,
      reference: {
        childKey: keyOf(table, fk.columns[0]!.name),
        parentKey: keyOf(inherit.from, fk.foreignColumns[0]!.name),
      },
      copies: inherit.copies.map((name) => ({ childKey: keyOf(table, name), parentKey: keyOf(inherit.from, name) })),
    },
  ];
});

/**
 * Sets on each child row of `batch`, in place, what its `inherit_owner` trigger would copy from
 * its parent in the same batch (the owner, the course), parents before children, so rows can be
 * loaded with the triggers disabled (suspendForBulkLoad). The generator leaves these columns to
 * the trigger; a row whose parent is not in the batch is left as it is (checkInheritedOwners, or
 * the column's NOT NULL, then refuses it).
 *
 * ```ts
 * for (const batch of generateUsers(plan)) { fillInheritedColumns(batch); loader.add(batch); }
 * ```
 */
export function fillInheritedColumns(batch: UserBatch): void {
  for (const { child, parent, reference, copies } of FILLS) {
    const children = rowsOf(batch, child);
    if (!children.length) continue;
    const parents = new Map(rowsOf(batch, parent).map((p) => [p[reference.parentKey], p]));
    for (const row of children) {
      const p = parents.get(row[reference.childKey]);
      if (!p) continue;
      for (const c of copies) row[c.childKey] = p[c.parentKey];
    }
  }
}
