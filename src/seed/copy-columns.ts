import { getTableConfig, type PgColumn, type PgTable } from "drizzle-orm/pg-core";
import { encoders, type FieldEncoder } from "./copy-binary.js";

/** How one table's rows go into a binary COPY: the statement, and per column its key and encoder. */
export interface CopyShape {
  /** `COPY "t" ("a", "b") FROM STDIN (FORMAT binary)` */
  statement: string;
  /** The rows' property names (Drizzle's camelCase keys), in the statement's column order. */
  keys: string[];
  encoders: FieldEncoder[];
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The COPY of `keys` (properties of the table's insert type) into `table`: column names and
 * binary encoders come from the Drizzle definition, so a column added to the schema needs no
 * change here unless its type is new (then this throws, naming it, before anything is sent).
 * Columns left out take their defaults, as in an INSERT.
 */
export function copyShape(table: PgTable, keys: readonly string[]): CopyShape {
  const { name } = getTableConfig(table);
  const columns = keys.map((key) => {
    const column = (table as unknown as Record<string, PgColumn | undefined>)[key];
    if (!column) throw new TypeError(`${name} has no column for the property ${key}`);
    return column;
  });
  return {
    statement: `COPY ${quote(name)} (${columns.map((c) => quote(c.name)).join(", ")}) FROM STDIN (FORMAT binary)`,
    keys: [...keys],
    encoders: columns.map((c) => encoderFor(c, name)),
  };
}

function encoderFor(column: PgColumn, table: string): FieldEncoder {
  switch (column.columnType) {
    case "PgUUID":
      return encoders.uuid;
    case "PgText":
    case "PgVarchar":
    case "PgEnumColumn": // enum_recv reads the label's text
      return encoders.text;
    case "PgBoolean":
      return encoders.bool;
    case "PgSmallInt":
      return encoders.int2;
    case "PgInteger":
      return encoders.int4;
    case "PgBigInt53":
    case "PgBigInt64":
      return encoders.int8;
    case "PgReal":
      return encoders.float4;
    case "PgDoublePrecision":
      return encoders.float8;
    case "PgNumeric":
    case "PgNumericNumber":
      return encoders.numeric;
    case "PgJsonb":
      return encoders.jsonb;
    case "PgVector":
      return encoders.vector;
    case "PgTimestamp":
    case "PgTimestampString":
      if (column.getSQLType() === "timestamp with time zone")
        return (w, v) => w.timestamptz(v instanceof Date ? v : new Date(String(v)));
      break;
    case "PgArray":
      if (column.getSQLType() === "text[]") return encoders.textArray;
      break;
  }
  throw new TypeError(
    `no binary COPY encoder for ${table}.${column.name} (${column.getSQLType()}): add one to src/seed/copy-binary.ts`,
  );
}
