import { getTableColumns, type InferSelectModel } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Queryable } from "../db/transaction.js";
import { date, driverOf, num, queryText, quoteIdentifier, type Row } from "../db/query.js";
import { vectorParam } from "../db/vector.js";

/**
 * Each SQL function's signature and result row, declared once here. From a declaration come the
 * statement the wrapper sends, the TypeScript type of its rows and the mapping from SQL to
 * TypeScript; test/function-shapes.test.ts compares every declaration with the function in the
 * catalog (argument and result names and types, in order), so a change on either side fails.
 */

/**
 * One result column: its type as the catalog names it (format_type), and the conversion its
 * value needs, if any, from what both drivers return by default (bigint and numeric arrive as
 * strings; uuid, text, real, double precision and timestamptz arrive as what they are).
 */
export interface Column<T> {
  readonly type: string;
  readonly convert?: (value: unknown) => unknown;
  /** The column's TypeScript type; never set (types only). */
  readonly __type?: T;
}

const col = <T>(type: string, convert?: (value: unknown) => unknown): Column<T> => ({ type, convert });

/** The result column types the functions use; `…OrNull` where the SQL can yield NULL. */
export const column = {
  uuid: col<string>("uuid"),
  text: col<string>("text"),
  textOrNull: col<string | null>("text"),
  bigint: col<number>("bigint", num),
  numeric: col<number>("numeric", num),
  real: col<number>("real"),
  doublePrecision: col<number>("double precision"),
  timestamptzOrNull: col<Date | null>("timestamp with time zone", date),
};

type Columns = Record<string, Column<unknown>>;

/** The TypeScript row of a column map: same keys (and their doc comments), their columns' types. */
export type RowOf<C extends Columns> = { [K in keyof C]: C[K] extends Column<infer T> ? T : never };

/** A result row: its columns in SQL order (`key` in TypeScript, `name` in SQL), and the conversion of a driver row. */
export interface RowShape<T> {
  readonly columns: ReadonlyArray<{ readonly key: string; readonly name: string; readonly type: string }>;
  readonly decode: (row: Row) => T;
}

/** processedDocumentId -> processed_document_id: the SQL name of a TypeScript key. */
const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function shape<T>(
  columns: Array<{ key: string; name: string; type: string; convert?: (value: unknown) => unknown }>,
): RowShape<T> {
  // The statement renames the columns to their keys (`AS "courseId"`), so a driver row already has
  // the TypeScript keys and values of the right type, but for the few columns converted here in place.
  const converted = columns.filter((c) => c.convert);
  return {
    columns: columns.map(({ key, name, type }) => ({ key, name, type })),
    decode: (row) => {
      for (const c of converted) {
        const value = row[c.key];
        if (value !== null && value !== undefined) row[c.key] = c.convert!(value);
      }
      return row as T;
    },
  };
}

/** A `RETURNS TABLE (…)` row, keyed in camelCase; each key's SQL column is its snake_case. */
export function rowShape<C extends Columns>(columns: C): RowShape<RowOf<C>> {
  return shape(
    Object.entries(columns).map(([key, c]) => ({ key, name: snakeCase(key), type: c.type, convert: c.convert })),
  );
}

/** A `RETURNS <table>` row: the table's own columns, typed as its Drizzle select model. */
export function tableRowShape<T extends PgTable>(table: T): RowShape<InferSelectModel<T>> {
  return shape(
    Object.entries(getTableColumns(table) as Record<string, PgColumn>).map(([key, c]) => {
      const type = c.getSQLType();
      if (!/^(uuid|text|timestamp with time zone)$/.test(type) && c.columnType !== "PgEnumColumn") {
        throw new TypeError(`tableRowShape: no conversion for ${c.name} (${type})`);
      }
      return { key, name: c.name, type, convert: type.startsWith("timestamp") ? date : undefined };
    }),
  );
}

/** Argument types as the catalog names them. `vector` arguments take number[] (validated by the caller). */
type ArgType = "uuid" | "text" | "integer" | "double precision" | "vector";

export interface SqlFunction<T> {
  readonly name: string;
  /** Input arguments in order: name -> type. */
  readonly args: Readonly<Record<string, ArgType>>;
  readonly returns: RowShape<T>;
  /** Calls the function with its arguments in order and returns its rows, decoded. */
  call(db: Queryable, args: readonly unknown[]): Promise<T[]>;
}

/**
 * Declares a SQL function. Its statement (`SELECT course_id AS "courseId", … FROM name($1::type, …)`)
 * is built once, and each call sends it straight to the driver: no query building and no row
 * copying per call, one round trip.
 */
export function sqlFunction<T>(name: string, args: Record<string, ArgType>, returns: RowShape<T>): SqlFunction<T> {
  const types = Object.values(args);
  const columns = returns.columns.map((c) => `${quoteIdentifier(c.name)} AS ${quoteIdentifier(c.key)}`).join(", ");
  const text = `SELECT ${columns} FROM ${name}(${types.map((t, i) => `$${i + 1}::${t}`).join(", ")})`;
  const vectors = types.flatMap((t, i) => (t === "vector" ? [i] : []));
  return {
    name,
    args,
    returns,
    async call(db, values) {
      let params = values as unknown[];
      if (vectors.length > 0) {
        const { server } = driverOf(db);
        params = [...values];
        for (const i of vectors) params[i] = vectorParam(values[i] as number[], server);
      }
      const rows = await queryText(db, text, params);
      return rows.map(returns.decode);
    },
  };
}
