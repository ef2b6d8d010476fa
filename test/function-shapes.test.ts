import { readdirSync, readFileSync } from "node:fs";
import { sql, TransactionRollbackError } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/query.js";
import { vectorParam } from "../src/db/vector.js";
import { sqlFunctions } from "../src/functions/declarations.js";
import { column, rowShape, sqlFunction, type SqlFunction } from "../src/functions/sql-function.js";
import type { Queryable } from "../src/index.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

// Each SQL function's arguments and result row are declared once, in src/functions/declarations.ts;
// the wrappers' statements, row types and row mapping all come from there. Here every declaration
// is compared with the function PostgreSQL actually has (pg_proc: proargnames, proallargtypes,
// proargmodes; a `RETURNS <table>` function's row is that table's columns), names and types in
// order, so a change to either side that the other does not follow fails.

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

type Signature = { args: string[]; returns: string[] };

/** What the catalog says of a function: `name type` of its inputs and of its result columns, in order. */
async function catalogSignature(db: Queryable, name: string): Promise<Signature[]> {
  const rows = await queryRows(
    db,
    sql`SELECT p.oid,
          array(SELECT a.name || ' ' || format_type(a.type, NULL)
                  FROM unnest(coalesce(p.proargnames, array_fill(''::text, array[p.pronargs])),
                              coalesce(p.proallargtypes, p.proargtypes::oid[]),
                              coalesce(p.proargmodes, array_fill('i'::"char", array[p.pronargs])))
                       WITH ORDINALITY AS a(name, type, mode, n)
                 WHERE a.mode IN ('i', 'b') ORDER BY a.n) AS args,
          CASE WHEN p.proargmodes IS NOT NULL AND 't' = ANY (p.proargmodes) THEN
            array(SELECT a.name || ' ' || format_type(a.type, NULL)
                    FROM unnest(p.proargnames, p.proallargtypes, p.proargmodes) WITH ORDINALITY AS a(name, type, mode, n)
                   WHERE a.mode = 't' ORDER BY a.n)
          ELSE
            -- RETURNS <composite>: the row type's attributes
            array(SELECT att.attname || ' ' || format_type(att.atttypid, NULL)
                    FROM pg_type ty JOIN pg_attribute att ON att.attrelid = ty.typrelid
                   WHERE ty.oid = p.prorettype AND att.attnum > 0 AND NOT att.attisdropped ORDER BY att.attnum)
          END AS returns
        FROM pg_proc p JOIN pg_namespace ns ON ns.oid = p.pronamespace
       WHERE ns.nspname = 'public' AND p.proname = ${name}
       ORDER BY p.oid`,
  );
  return rows.map((r) => ({ args: r.args as string[], returns: r.returns as string[] }));
}

/** The same, from a declaration. */
function declaredSignature(fn: SqlFunction<unknown>): Signature {
  return {
    args: Object.entries(fn.args).map(([name, type]) => `${name} ${type}`),
    returns: fn.returns.columns.map((c) => `${c.name} ${c.type}`),
  };
}

describe("SQL function declarations", () => {
  it.each(sqlFunctions.map((fn) => [fn.name, fn] as const))(
    "%s: arguments and result row match the catalog, names and types in order",
    async (name, fn) => {
      // Exactly one function of that name: an overload left behind would make the call ambiguous.
      expect(await catalogSignature(t.db, name)).toEqual([declaredSignature(fn as SqlFunction<unknown>)]);
    },
  );

  it("every function in sql/functions/ is declared, and nothing else", () => {
    const dir = new URL("../sql/functions/", import.meta.url);
    const defined = readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .flatMap((f) =>
        [...readFileSync(new URL(f, dir), "utf8").matchAll(/^CREATE (?:OR REPLACE )?FUNCTION (\w+)\(/gm)].map(
          (m) => m[1]!,
        ),
      );
    expect(sqlFunctions.map((fn) => fn.name).sort()).toEqual([...new Set(defined)].sort());
  });

  it("a function whose result drifts from its declaration is caught (a renamed column, a changed type, a reordering)", async () => {
    const declared = sqlFunction(
      "shape_drift_probe",
      { p_id: "uuid" },
      rowShape({ courseId: column.uuid, learnerCount: column.bigint }),
    );
    const drifts: Array<[returns: string, body: string]> = [
      ["TABLE (course_id uuid, learner_count bigint)", "SELECT p_id, 0::bigint"], // the match: the probe itself is sound
      ["TABLE (course_id uuid, learners bigint)", "SELECT p_id, 0::bigint"],
      ["TABLE (course_id uuid, learner_count integer)", "SELECT p_id, 0"],
      ["TABLE (learner_count bigint, course_id uuid)", "SELECT 0::bigint, p_id"],
    ];
    const seen: boolean[] = [];
    for (const [returns, body] of drifts) {
      // As the owner, in a transaction rolled back: nothing stays behind.
      await t.db
        .transaction(async (tx) => {
          await tx.execute(
            sql.raw(`CREATE FUNCTION shape_drift_probe(p_id uuid) RETURNS ${returns} LANGUAGE sql AS $$ ${body} $$`),
          );
          seen.push(
            JSON.stringify(await catalogSignature(tx, "shape_drift_probe")) ===
              JSON.stringify([declaredSignature(declared as SqlFunction<unknown>)]),
          );
          tx.rollback();
        })
        .catch((e: unknown) => {
          if (!(e instanceof TransactionRollbackError)) throw e;
        });
    }
    expect(seen).toEqual([true, false, false, false]);
  });
});

describe("rows from a declaration", () => {
  it("the result row's keys are the declared camelCase keys, their SQL columns the snake_case names; bigint and numeric become numbers", () => {
    const shape = rowShape({
      processedDocumentId: column.uuid,
      totalTimeSpentSeconds: column.bigint,
      lastAccessedAt: column.timestamptzOrNull,
    });
    expect(shape.columns.map((c) => c.name)).toEqual([
      "processed_document_id",
      "total_time_spent_seconds",
      "last_accessed_at",
    ]);
    // The statement renames each column to its key; what the driver returns is converted in place.
    expect(shape.decode({ processedDocumentId: "a", totalTimeSpentSeconds: "12", lastAccessedAt: null })).toEqual({
      processedDocumentId: "a",
      totalTimeSpentSeconds: 12,
      lastAccessedAt: null,
    });
    expect(
      shape.decode({ processedDocumentId: "a", totalTimeSpentSeconds: 12n, lastAccessedAt: "2026-11-30T00:00:00Z" }),
    ).toEqual({
      processedDocumentId: "a",
      totalTimeSpentSeconds: 12,
      lastAccessedAt: new Date("2026-11-30T00:00:00Z"),
    });
  });
});

describe("embeddings sent in binary", () => {
  it("reach the server as the same vector as pgvector's text form, over values of every magnitude", async () => {
    // PGlite takes text parameters only; there the wrappers send the text form itself.
    if (t.kind !== "server") return;
    const pool = t.db.$client as import("pg").Pool;
    let state = 7;
    const random = () => ((state = (state * 48271) % 2147483647) / 2147483647) * 2 - 1;
    for (let n = 0; n < 200; n++) {
      const scale = 10 ** Math.floor(random() * 30);
      const values = Array.from({ length: 768 }, (_, i) => (i % 97 === 0 ? 0 : random() * scale));
      const { rows } = await pool.query("SELECT $1::vector = $2::vector AS same, $1::vector::text AS binary", [
        vectorParam(values, true),
        vectorParam(values, false),
      ]);
      expect(rows[0], rows[0].binary.slice(0, 80)).toMatchObject({ same: true });
    }
  });
});
