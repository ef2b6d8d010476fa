import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

// The README's naming rule for the platform's SQL functions, checked against the catalog: an
// input parameter is `p_<name>` exactly when <name> is a column of the platform's tables or one of
// the function's output columns, since inside the body the plain name would be ambiguous with it.
// Functions that read no table (set_current_user_id) have nothing to be ambiguous with.

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

interface FunctionParameters {
  name: string;
  inputs: string[];
  outputs: string[];
  body: string;
}

async function platformFunctions(): Promise<FunctionParameters[]> {
  const rows = await queryRows(
    t.db,
    `SELECT p.proname AS name, p.prosrc AS body,
            coalesce(array(SELECT a.name FROM unnest(p.proargnames, coalesce(p.proargmodes, array_fill('i'::"char", array[p.pronargs]))) AS a(name, mode)
                           WHERE a.mode IN ('i', 'b')), '{}') AS inputs,
            coalesce(array(SELECT a.name FROM unnest(p.proargnames, p.proargmodes) AS a(name, mode)
                           WHERE a.mode IN ('t', 'o', 'b')), '{}') AS outputs
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prokind = 'f' AND p.prorettype <> 'trigger'::regtype
        AND p.proargnames IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
  );
  return rows.map((r) => ({
    name: String(r.name),
    body: String(r.body),
    inputs: r.inputs as string[],
    outputs: r.outputs as string[],
  }));
}

async function platformColumns(): Promise<{ tables: string[]; columns: Set<string> }> {
  const rows = await queryRows(
    t.db,
    `SELECT c.relname AS table_name, a.attname AS column_name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')`,
  );
  return {
    tables: [...new Set(rows.map((r) => String(r.table_name)))],
    columns: new Set(rows.map((r) => String(r.column_name))),
  };
}

describe("the platform's SQL functions name their parameters as the README says", () => {
  it("p_<name> exactly when <name> is a column the body could confuse it with", async () => {
    const { tables, columns } = await platformColumns();
    const functions = await platformFunctions();
    const searchFunctions = functions.filter((f) =>
      ["find_similar_documents", "search_courses", "get_course_stats"].includes(f.name),
    );
    expect(searchFunctions).toHaveLength(3); // the catalog query sees the functions it is about

    const misnamed: string[] = [];
    for (const f of functions) {
      const readsTables = tables.some((table) => new RegExp(`\\b${table}\\b`).test(f.body));
      if (!readsTables && f.outputs.length === 0) continue;
      const clashes = (name: string) => columns.has(name) || f.outputs.includes(name);
      for (const input of f.inputs) {
        const plain = input.startsWith("p_") ? input.slice(2) : input;
        if (input.startsWith("p_") !== clashes(plain)) misnamed.push(`${f.name}(${input})`);
      }
    }
    expect(misnamed).toEqual([]);
  });
});
