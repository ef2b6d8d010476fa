import { sql, type SQL } from "drizzle-orm";
import { getTableConfig, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import type { UserBatch } from "./generate.js";
import { LOAD_ORDER, rowsOf, type Loader, type TableName, type TableTimes } from "./load.js";
import type { SeedSession } from "./session.js";

/** Rows per INSERT: ~12 MB of embeddings at most per statement. */
const ROWS_PER_INSERT = 2000;
/** What one embedding row weighs in text, for `pendingBytes`. */
const BYTES_PER_ROW = 1024;

/**
 * Loads through multi-row INSERTs: the path for PGlite, which has no COPY FROM STDIN (its COPY
 * reads a `/dev/blob` file: a whole table's data as one Blob in memory, and reading a server file
 * needs pg_read_server_files, which `createTestDb`'s non-superuser owner lacks), and for a seed
 * run by a member of admin_role that does not own the tables (COPY FROM is refused on tables
 * with row-level security, and only the owner may lift FORCE for the transaction).
 */
export class InsertLoader implements Loader {
  private pending = new Map<TableName, Array<Record<string, unknown>>>();
  private rows = 0;

  constructor(private readonly session: SeedSession) {}

  get pendingBytes(): number {
    return this.rows * BYTES_PER_ROW;
  }

  add(batch: UserBatch): void {
    for (const [name] of LOAD_ORDER) {
      const rows = rowsOf(batch, name);
      if (!rows.length) continue;
      const list = this.pending.get(name) ?? [];
      for (const row of rows) list.push(row);
      this.pending.set(name, list);
      this.rows += rows.length;
    }
  }

  flush(): Promise<TableTimes> {
    const pending = this.pending;
    this.pending = new Map();
    this.rows = 0;
    return (async () => {
      const times: TableTimes = {};
      for (const [name, table] of LOAD_ORDER) {
        const rows = pending.get(name);
        if (!rows) continue;
        const started = performance.now();
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT)
          await this.session.run(unnestInsert(table, rows.slice(i, i + ROWS_PER_INSERT)));
        times[name] = { rows: rows.length, seconds: (performance.now() - started) / 1000 };
      }
      return times;
    })();
  }
}

/**
 * `INSERT INTO t (a, b) SELECT u.a::type, u.b::type FROM unnest($1::text[], $2::text[]) AS u(a, b)`:
 * one parameter per column instead of one per value. Binding a multi-row VALUES list cost the
 * client more than the server's work per row. Every column travels as a text array literal
 * built here (PGlite cannot bind arrays of enums or vectors, node-postgres can; this way both
 * take the same path) and is cast back per row. Columns, types and value mapping come from the
 * Drizzle table definition.
 */
function unnestInsert(table: PgTable, rows: Array<Record<string, unknown>>): SQL {
  const config = getTableConfig(table);
  const columns = Object.keys(rows[0] ?? {}).map((key, i) => {
    const column = (table as unknown as Record<string, PgColumn>)[key]!;
    const type = column.columnType === "PgEnumColumn" ? `"${column.getSQLType()}"` : column.getSQLType();
    const values = rows.map((r) => {
      const v = r[key];
      if (v == null) return null;
      return Array.isArray(v) && !type.startsWith("vector") ? arrayLiteral(v) : String(column.mapToDriverValue(v));
    });
    return { name: column.name, alias: `c${i}`, type, literal: arrayLiteral(values) };
  });
  const names = sql.join(
    columns.map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  const selected = sql.raw(columns.map((c) => `${c.alias}::${c.type}`).join(", "));
  const arrays = sql.join(
    columns.map((c) => sql`${c.literal}::text[]`),
    sql`, `,
  );
  const aliases = sql.raw(columns.map((c) => c.alias).join(", "));
  return sql`INSERT INTO ${sql.identifier(config.name)} (${names}) SELECT ${selected} FROM unnest(${arrays}) AS u(${aliases})`;
}

/** PostgreSQL's text form of a one-dimensional array; null stays NULL. */
function arrayLiteral(items: unknown[]): string {
  return `{${items.map((x) => (x === null ? "NULL" : `"${escapeElement(String(x))}"`)).join(",")}}`;
}

// Most values (every embedding) have nothing to escape; the check is much cheaper than the regex.
const escapeElement = (s: string) => (s.includes('"') || s.includes("\\") ? s.replace(/(["\\])/g, "\\$1") : s);
