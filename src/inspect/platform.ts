import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import * as schema from "../schema/index.js";

/** An index the schema declares, as `health` expects to find it. */
export interface DeclaredIndex {
  table: string;
  name: string;
  /** The access method: `btree`, `hnsw`, `gin`… */
  method: string;
  /** HNSW (vector search) or trigram (text search): what the search functions depend on. */
  search: "hnsw" | "trigram" | null;
  columns: string[];
  /** The first column's operator class (`vector_cosine_ops`, `gin_trgm_ops`), if declared. */
  opClass: string | null;
}

/**
 * The platform's tables, read from the Drizzle schema (src/schema/) rather than listed again,
 * so a table added there is inspected and health-checked without touching this folder.
 */
function platformTables(): PgTable[] {
  return (Object.values(schema) as unknown[]).filter((value): value is PgTable => is(value, PgTable));
}

export const platformTableNames = (): string[] =>
  platformTables()
    .map((t) => getTableConfig(t).name)
    .sort();

/** The tables whose rows row-level security guards: those the schema gives policies (not migrations_log). */
export const guardedTableNames = (): string[] =>
  platformTables()
    .map((t) => getTableConfig(t))
    .filter((config) => config.policies.length > 0)
    .map((config) => config.name)
    .sort();

/** Every index src/schema declares, with the HNSW and trigram ones marked. */
export function declaredIndexes(): DeclaredIndex[] {
  return platformTables()
    .flatMap((table) => {
      const config = getTableConfig(table);
      return config.indexes.map((index) => {
        const columns = index.config.columns as Array<{ name?: string; indexConfig?: { opClass?: string } }>;
        const method = index.config.method ?? "btree";
        const trigram = columns.some((c) => c.indexConfig?.opClass?.endsWith("_trgm_ops"));
        return {
          table: config.name,
          name: index.config.name!,
          method,
          search: method === "hnsw" ? ("hnsw" as const) : trigram ? ("trigram" as const) : null,
          columns: columns.map((c) => c.name ?? "?"),
          opClass: columns[0]?.indexConfig?.opClass ?? null,
        };
      });
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The HNSW indexes: what `recall` measures. */
export const hnswIndexes = (): DeclaredIndex[] => declaredIndexes().filter((i) => i.search === "hnsw");
