import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withUserContext } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { twoUsersWithCourses } from "./support/fixtures.js";

// What row-level security costs, as a property of the plans (bench/rls.ts measures the time):
// the policy's `user_id = (SELECT app_current_user_id())` is one InitPlan, evaluated once per
// statement, and the scan below it is the one the explicit filter `user_id = '<id>'` gets. So RLS
// is a constant per statement (planning the policy and calling the context function once), not a
// check per row. And the context function is PL/pgSQL (migration 0006: a LANGUAGE sql body was
// parsed and planned again on every statement), without a SET clause, every name in it
// schema-qualified (migration 0007: the clause's save, set and restore cost every statement).

let t: TestDatabase;
let users: Awaited<ReturnType<typeof twoUsersWithCourses>>;
beforeAll(async () => {
  t = await openTestDatabase();
  users = await twoUsersWithCourses(t.db);
});
afterAll(() => t?.close());

interface PlanNode {
  "Node Type": string;
  "Parent Relationship"?: string;
  "Subplan Name"?: string;
  "Index Name"?: string;
  "Relation Name"?: string;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** EXPLAIN (ANALYZE, FORMAT JSON) of a statement in user a's context, its plan's nodes. */
async function planAsUser(statement: string, settings: string[] = []): Promise<PlanNode[]> {
  return withUserContext(t.db, users.a.id, async (tx) => {
    for (const s of settings) await tx.execute(sql.raw(s));
    const [row] = await queryRows(tx, sql.raw(`EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) ${statement}`));
    const plan = (row!["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]!.Plan;
    return nodes(plan);
  });
}
const scans = (plan: PlanNode[]) =>
  plan
    .filter((n) => n["Relation Name"])
    .map((n) => `${n["Node Type"]} ${n["Relation Name"]}${n["Index Name"] ? ` using ${n["Index Name"]}` : ""}`);

describe("row-level security costs a constant per statement, not a check per row", () => {
  for (const [table, statement] of [
    ["courses", "SELECT id, title FROM courses"],
    ["keywords", "SELECT id, term FROM keywords WHERE course_id = '$course'"],
    ["course_documents", "SELECT processing_status, count(*) FROM course_documents GROUP BY 1"],
  ] as const) {
    it(`${table}: the policy is one InitPlan run once, and the scan is the explicit filter's`, async () => {
      const policy = statement.replace("$course", users.a.course);
      const explicit = /WHERE/.test(policy)
        ? policy.replace("WHERE", `WHERE user_id = '${users.a.id}' AND`)
        : policy.replace(/FROM (\w+)/, `FROM $1 WHERE user_id = '${users.a.id}'`);
      // Index scans even on these tiny tables, as on a real one where a user's rows are few.
      const settings = ["SET LOCAL enable_seqscan = off"];
      const withRls = await planAsUser(policy, settings);
      const initPlans = withRls.filter((n) => n["Parent Relationship"] === "InitPlan");
      expect(initPlans).toHaveLength(1);
      expect(initPlans[0]!["Actual Loops"]).toBe(1);
      // No SubPlan: nothing is evaluated per row.
      expect(withRls.filter((n) => n["Parent Relationship"] === "SubPlan")).toEqual([]);
      // The explicit filter as a role that bypasses RLS (a superuser): the same scan.
      const [row] = await t.superuserRows(
        `SET enable_seqscan = off; EXPLAIN (ANALYZE, COSTS OFF, FORMAT JSON) ${explicit}`,
      );
      const withFilter = nodes((row!["QUERY PLAN"] as Array<{ Plan: PlanNode }>)[0]!.Plan);
      expect(withFilter.filter((n) => n["Parent Relationship"] === "InitPlan")).toEqual([]);
      expect(scans(withRls)).toEqual(scans(withFilter));
    });
  }

  it("the context functions are PL/pgSQL, STABLE, without a SET clause, and answer as before", async () => {
    const rows = await queryRows(
      t.db,
      sql`SELECT proname, l.lanname, provolatile, proconfig FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
          WHERE proname IN ('app_current_user_id', 'app_is_admin') ORDER BY proname`,
    );
    // A SET clause would save, set and restore search_path around every policy's call (migration 0007).
    expect(rows).toEqual([
      { proname: "app_current_user_id", lanname: "plpgsql", provolatile: "s", proconfig: null },
      { proname: "app_is_admin", lanname: "plpgsql", provolatile: "s", proconfig: null },
    ]);
    const [inContext] = await withUserContext(t.db, users.a.id, (tx) =>
      queryRows(tx, sql`SELECT app_current_user_id() AS id, app_is_admin() AS admin`),
    );
    expect(inContext).toEqual({ id: users.a.id, admin: false });
    // Outside any context the setting reads '' (or is unset): no user, not an error.
    const [none] = await queryRows(t.db, sql`SELECT app_current_user_id() AS id`);
    expect(none).toEqual({ id: null });
  });

  it("a search_path that shadows every name in their bodies changes neither answer, nor what the policies let through", async () => {
    // Without a pinned search_path, a bare current_setting(), = or NULLIF in the bodies would
    // resolve to these: the context would read user b, and '' would compare equal to any id.
    for (const statement of [
      "CREATE SCHEMA shadow",
      `CREATE FUNCTION shadow.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT '${users.b.id}' $$`,
      "CREATE FUNCTION shadow.always(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$",
      "CREATE OPERATOR shadow.= (LEFTARG = text, RIGHTARG = text, FUNCTION = shadow.always)",
      "CREATE FUNCTION shadow.always(name, name) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$",
      "CREATE OPERATOR shadow.= (LEFTARG = name, RIGHTARG = name, FUNCTION = shadow.always)",
      "GRANT USAGE ON SCHEMA shadow TO PUBLIC",
      "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA shadow TO PUBLIC",
    ])
      await t.db.execute(sql.raw(statement));
    try {
      const seen = await withUserContext(t.db, users.a.id, async (tx) => {
        await tx.execute(sql.raw("SET LOCAL search_path = shadow, pg_catalog, public"));
        // The shadowing is live in this transaction: a bare call resolves to it.
        const [shadowed] = await queryRows(tx, sql`SELECT current_setting('app.current_user_id', true) AS id`);
        expect(shadowed!.id).toBe(users.b.id);
        const [context] = await queryRows(tx, sql`SELECT app_current_user_id() AS id, app_is_admin() AS admin`);
        const courses = await queryRows(tx, sql`SELECT user_id FROM courses`);
        return { context, owners: [...new Set(courses.map((c) => c.user_id))] };
      });
      expect(seen).toEqual({ context: { id: users.a.id, admin: false }, owners: [users.a.id] });
    } finally {
      await t.db.execute(sql.raw("DROP SCHEMA shadow CASCADE"));
    }
  });
});
