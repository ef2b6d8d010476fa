import { is, sql } from "drizzle-orm";
import { getTableConfig, PgTable, uniqueKeyName } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/query.js";
import * as schema from "../src/schema/index.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

// PostgreSQL cuts identifiers to 63 bytes (NAMEDATALEN - 1) with only a NOTICE. A longer name in
// the schema then differs from the catalog's, and drizzle-kit push rebuilt such a foreign key on
// every run (user_annotations_processed_document_id_processed_documents_id_fk, 64 characters).

const MAX = 63;
const bytes = (name: string) => Buffer.byteLength(name, "utf8");

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));

/** Every name the TypeScript schema gives the database: tables, columns, keys, indexes, checks, policies, enums. */
function declaredNames(): Array<{ kind: string; name: string }> {
  const names: Array<{ kind: string; name: string }> = [];
  for (const table of tables) {
    const c = getTableConfig(table);
    names.push({ kind: "table", name: c.name });
    for (const col of c.columns) {
      names.push({ kind: `column of ${c.name}`, name: col.name });
      if (col.isUnique) names.push({ kind: "unique", name: col.uniqueName ?? uniqueKeyName(table, [col.name]) });
    }
    for (const fk of c.foreignKeys) names.push({ kind: "foreign key", name: fk.getName() });
    for (const u of c.uniqueConstraints) names.push({ kind: "unique", name: u.getName() ?? "" });
    for (const i of c.indexes) names.push({ kind: "index", name: i.config.name! });
    for (const ch of c.checks) names.push({ kind: "check", name: ch.name });
    for (const p of c.policies) names.push({ kind: "policy", name: p.name });
  }
  for (const e of [
    schema.userRole,
    schema.processingStatus,
    schema.feedbackType,
    schema.learningStyle,
    schema.complexityLevel,
  ]) {
    names.push(
      { kind: "enum", name: e.enumName },
      ...e.enumValues.map((v) => ({ kind: `value of ${e.enumName}`, name: v })),
    );
  }
  return names;
}

describe("identifiers", () => {
  it("declared by the TypeScript schema are at most 63 bytes, so PostgreSQL keeps them as written", () => {
    const names = declaredNames();
    expect(names.length).toBeGreaterThan(200);
    expect(names.filter((n) => bytes(n.name) > MAX)).toEqual([]);
  });

  it("of every constraint, index and policy the schema declares are in the catalog exactly as declared", async () => {
    const declared = declaredNames().filter((n) =>
      ["foreign key", "unique", "index", "check", "policy"].includes(n.kind),
    );
    const rows = await queryRows(
      t.db,
      sql`SELECT conname AS name FROM pg_constraint WHERE connamespace = 'public'::regnamespace
          UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
          UNION SELECT policyname FROM pg_policies WHERE schemaname = 'public'`,
    );
    const live = new Set(rows.map((r) => String(r.name)));
    expect(declared.filter((n) => !live.has(n.name))).toEqual([]);
  });

  it("in the catalog are none 63 bytes long, the length a truncated name would have (the package's own objects)", async () => {
    // Objects of this schema, not of the extensions (pg_depend deptype 'e'), whose names are theirs.
    const rows = await queryRows(
      t.db,
      sql`WITH own AS (
            SELECT 'relation' AS kind, relname::text AS name, oid, 'pg_class'::regclass AS cls FROM pg_class WHERE relnamespace = 'public'::regnamespace
            UNION ALL SELECT 'constraint', conname, oid, 'pg_constraint'::regclass FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL SELECT 'policy', polname, oid, 'pg_policy'::regclass FROM pg_policy
            UNION ALL SELECT 'trigger', tgname, oid, 'pg_trigger'::regclass FROM pg_trigger WHERE NOT tgisinternal
            UNION ALL SELECT 'function', proname, oid, 'pg_proc'::regclass FROM pg_proc WHERE pronamespace = 'public'::regnamespace
            UNION ALL SELECT 'type', typname, oid, 'pg_type'::regclass FROM pg_type WHERE typnamespace = 'public'::regnamespace
            UNION ALL SELECT 'column', attname, attrelid, 'pg_class'::regclass FROM pg_attribute
              WHERE attnum > 0 AND attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
          )
          SELECT kind, name, octet_length(name) AS length FROM own
          WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = own.cls AND d.objid = own.oid AND d.deptype = 'e')`,
    );
    expect(rows.length).toBeGreaterThan(200);
    expect(rows.filter((r) => Number(r.length) >= MAX)).toEqual([]);
  });
});
