import { is, sql, TransactionRollbackError } from "drizzle-orm";
import { generateDrizzleJson, generateMigration } from "drizzle-kit/api";
import { getTableConfig, index, PgDialect, pgTable, PgTable, text, uuid, type PgPolicy } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withUserContext } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import * as schema from "../src/schema/index.js";
import { id, timestamps } from "../src/schema/columns.js";
import {
  chapters,
  inheritedCourseColumn,
  ownerColumn,
  ownerPolicies,
  ownerPolicyNames,
  userOwnedTables,
  type UserOwnedTable,
} from "../src/schema/index.js";
import { LOAD_ORDER } from "../src/seed/load.js";
import type { Database } from "../src/connection.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { pgErrorOf } from "./support/errors.js";
import { createCourseTree, createUser } from "./support/fixtures.js";

// src/schema/user-owned.ts lists the user-owned tables and how each gets its owner. Everything
// else such a table needs is checked against that list here, so a table added without one of
// them fails with a sentence naming what is missing.

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

const nameOf = (table: PgTable) => getTableConfig(table).name;
const schemaTables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
const seedOrder = () => LOAD_ORDER.map(([, table]) => table);

/** The tables a table's foreign keys point at (itself excluded). */
const parentsOf = (table: PgTable) =>
  getTableConfig(table)
    .foreignKeys.map((fk) => nameOf(fk.reference().foreignTable))
    .filter((p) => p !== nameOf(table));

/** What the TypeScript side lacks: the list, the policies beside each table, the seed's load order. */
function declarationProblems(tables: PgTable[], registry: readonly UserOwnedTable[], loadOrder: PgTable[]): string[] {
  const problems: string[] = [];
  const listed = registry.map((o) => nameOf(o.table));
  for (const table of tables) {
    const c = getTableConfig(table);
    const ownedLooking = c.columns.some((col) => col.name === "user_id") || c.policies.length > 0;
    if (ownedLooking && !listed.includes(c.name))
      problems.push(`${c.name} has a user_id column or policies but is not in userOwnedTables`);
  }
  const loaded = loadOrder.map(nameOf);
  registry.forEach((o, i) => {
    const c = getTableConfig(o.table);
    const policies = c.policies.map((p) => p.name);
    const missing = ownerPolicyNames(c.name).filter((p) => !policies.includes(p));
    if (missing.length)
      problems.push(
        `${c.name} does not declare ownerPolicies(t.${o.owner.name === "id" ? "id" : "userId"}): missing ${missing.join(", ")}`,
      );
    const selectOwn = c.policies.find((p) => p.name === `${c.name}_select_own`);
    if (selectOwn && !render(selectOwn.using).includes(`"${o.owner.name}"`))
      problems.push(`${c.name}'s owner policies do not filter on ${o.owner.name}`);
    for (const parent of parentsOf(o.table)) {
      const at = listed.indexOf(parent);
      if (at > i) problems.push(`${c.name} is listed before ${parent}, which it references`);
      if (loaded.includes(c.name) && loaded.indexOf(parent) > loaded.indexOf(c.name))
        problems.push(`the seed loads ${c.name} before ${parent}`);
    }
    if (!loaded.includes(c.name)) problems.push(`the seed's LOAD_ORDER does not load ${c.name}`);
    if (o.inherit && "from" in o.inherit) {
      if (!parentsOf(o.table).includes(nameOf(o.inherit.from)))
        problems.push(`${c.name} inherits from ${nameOf(o.inherit.from)} but has no foreign key to it`);
      for (const col of o.inherit.copies) {
        const column = c.columns.find((x) => x.name === col);
        if (!column?.notNull) problems.push(`${c.name} copies ${col} but has no NOT NULL ${col} column`);
      }
    }
  });
  return problems;
}

const dialect = new PgDialect();
const render = (q: PgPolicy["using"]) => (q ? dialect.sqlToQuery(q).sql : "");

/** What the database lacks for each listed table: FORCEd RLS, the declared policies, the trigger, the grants. */
async function catalogProblems(db: Database, registry: readonly UserOwnedTable[]): Promise<string[]> {
  const problems: string[] = [];
  const listed = registry.map((o) => nameOf(o.table));
  for (const o of registry) {
    const c = getTableConfig(o.table);
    const [rls] = await queryRows(
      db,
      sql`SELECT relrowsecurity AS enabled, relforcerowsecurity AS forced FROM pg_class WHERE oid = ${c.name}::regclass`,
    );
    if (!rls?.enabled || !rls.forced) problems.push(`${c.name}: row-level security is not enabled and forced`);
    const live = (
      await queryRows(db, sql`SELECT polname FROM pg_policy WHERE polrelid = ${c.name}::regclass ORDER BY 1`)
    ).map((r) => String(r.polname));
    const declared = c.policies.map((p) => p.name).sort();
    if (JSON.stringify(live) !== JSON.stringify(declared))
      problems.push(
        `${c.name}: the database has policies ${live.join(", ") || "(none)"}, the schema declares ${declared.join(", ")}`,
      );
    const [trigger] = await queryRows(
      db,
      sql`SELECT p.prosrc FROM pg_trigger g JOIN pg_proc p ON p.oid = g.tgfoid WHERE g.tgrelid = ${c.name}::regclass AND g.tgname = 'inherit_owner'`,
    );
    if (o.inherit && !trigger) problems.push(`${c.name}: no inherit_owner trigger (sql/triggers/inherit_owner.sql)`);
    if (!o.inherit && trigger)
      problems.push(`${c.name}: has an inherit_owner trigger but userOwnedTables says its owner is the current user`);
    if (o.inherit && trigger) {
      const body = String(trigger.prosrc);
      const reads = "from" in o.inherit ? [o.inherit.from] : o.inherit.checks;
      for (const parent of reads)
        if (!body.includes(`FROM ${nameOf(parent)} `))
          problems.push(`${c.name}: inherit_owner does not read ${nameOf(parent)}`);
      if ("from" in o.inherit)
        for (const col of o.inherit.copies)
          if (!body.includes(`NEW.${col}`)) problems.push(`${c.name}: inherit_owner does not set ${col}`);
    }
    for (const role of ["sensa_app", "admin_role"]) {
      const [p] = await queryRows(
        db,
        sql`SELECT has_table_privilege(${role}, ${c.name}, 'SELECT') AS s, has_table_privilege(${role}, ${c.name}, 'INSERT') AS i,
                   has_any_column_privilege(${role}, ${c.name}, 'UPDATE') AS u, has_table_privilege(${role}, ${c.name}, 'DELETE') AS d`,
      );
      const lacking = ["SELECT", "INSERT", "UPDATE", "DELETE"].filter((_, k) => ![p!.s, p!.i, p!.u, p!.d][k]);
      if (lacking.length) problems.push(`${c.name}: ${role} may not ${lacking.join(", ")} (sql/grants/grants.sql)`);
    }
  }
  const others = await queryRows(
    db,
    sql`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
          AND (has_table_privilege('sensa_app', oid, 'SELECT') OR has_table_privilege('sensa_app', oid, 'INSERT') OR relrowsecurity)`,
  );
  for (const r of others)
    if (!listed.includes(String(r.relname)))
      problems.push(
        `${r.relname}: sensa_app may use it or it has row-level security, but it is not in userOwnedTables`,
      );
  return problems;
}

describe("userOwnedTables", () => {
  it("lists every table of the schema but migrations_log", () => {
    expect(userOwnedTables.map((o) => nameOf(o.table)).sort()).toEqual(
      schemaTables
        .map(nameOf)
        .filter((n) => n !== "migrations_log")
        .sort(),
    );
  });

  it("matches the TypeScript schema: owner policies beside each table, parents listed first, the seed loading each after its parents", () => {
    expect(declarationProblems(schemaTables, userOwnedTables, seedOrder())).toEqual([]);
  });

  it("matches the database: row-level security forced, the declared policies, inherit_owner where the owner is inherited, the grants", async () => {
    expect(await catalogProblems(t.db, userOwnedTables)).toEqual([]);
  });

  it("declares each policy as the database has it: command, roles and expressions (drizzle-kit compares only names)", async () => {
    // Each declared policy is created on a scratch copy of its table, inside a transaction that
    // is rolled back, and PostgreSQL's own deparse of both is compared.
    const pairs: Array<{ name: string; live: unknown; declared: unknown }> = [];
    const probe = t.db.transaction(async (tx) => {
      for (const o of userOwnedTables) {
        const c = getTableConfig(o.table);
        await tx.execute(sql.raw(`CREATE TABLE policy_probe (LIKE "${c.name}")`));
        for (const p of c.policies) {
          const to = ([p.to ?? "public"].flat() as Array<string | { name: string }>)
            .map((r) => (typeof r === "string" ? r : r.name))
            .join(", ");
          const using = p.using ? ` USING (${render(p.using)})` : "";
          const check = p.withCheck ? ` WITH CHECK (${render(p.withCheck)})` : "";
          await tx.execute(
            sql.raw(
              `CREATE POLICY "${p.name}" ON policy_probe AS ${(p.as ?? "permissive").toUpperCase()} FOR ${(p.for ?? "all").toUpperCase()} TO ${to}${using}${check}`,
            ),
          );
        }
        const shape = (table: string) =>
          queryRows(
            tx,
            sql`SELECT polname, polcmd, polpermissive, polroles::regrole[]::text AS roles, pg_get_expr(polqual, polrelid) AS qual,
                       pg_get_expr(polwithcheck, polrelid) AS with_check
                FROM pg_policy WHERE polrelid = ${table}::regclass ORDER BY polname`,
          );
        const live = await shape(c.name);
        const declared = await shape("policy_probe");
        for (let k = 0; k < Math.max(live.length, declared.length); k++) {
          pairs.push({
            name: `${c.name}.${String(live[k]?.polname ?? declared[k]?.polname)}`,
            live: live[k],
            declared: declared[k],
          });
        }
        await tx.execute(sql`DROP TABLE policy_probe`);
      }
      tx.rollback();
    });
    await expect(probe).rejects.toBeInstanceOf(TransactionRollbackError);
    expect(pairs.length).toBe(51);
    for (const p of pairs) expect(p.declared, p.name).toEqual(p.live);
  });
});

describe("adding a user-owned table (a throwaway `flashcards`, child of chapters)", () => {
  // What a developer writes in src/schema/flashcards.ts: the owner and course columns and the
  // policies come from the helpers, so the table says only what is its own.
  const flashcards = pgTable(
    "flashcards",
    {
      id: id(),
      chapterId: uuid("chapter_id")
        .notNull()
        .references(() => chapters.id, { onDelete: "cascade" }),
      ...inheritedCourseColumn(),
      ...ownerColumn(),
      front: text("front").notNull(),
      ...timestamps,
    },
    (t) => [index("flashcards_user_id_idx").on(t.userId), ...ownerPolicies(t.userId)],
  );
  // ... and in src/schema/user-owned.ts:
  const entry: UserOwnedTable = {
    table: flashcards,
    owner: flashcards.userId,
    inherit: { from: chapters, copies: ["user_id", "course_id"] },
  };
  const registry = [...userOwnedTables, entry];
  const tables = [...schemaTables, flashcards];

  it("fails until it is listed in userOwnedTables, then until the seed loads it", () => {
    expect(declarationProblems(tables, userOwnedTables, seedOrder())).toEqual([
      "flashcards has a user_id column or policies but is not in userOwnedTables",
    ]);
    expect(declarationProblems(tables, registry, seedOrder())).toEqual([
      "the seed's LOAD_ORDER does not load flashcards",
    ]);
    expect(declarationProblems(tables, registry, [...seedOrder(), flashcards])).toEqual([]);
  });

  it("gets its policies from the generated migration, fails until sql/ forces RLS, adds the trigger and grants, then isolates users", async () => {
    // npm run db:generate: drizzle-kit's diff of the schema with and without the table.
    const before = generateDrizzleJson(schema as Record<string, unknown>);
    const after = generateDrizzleJson({ ...(schema as Record<string, unknown>), flashcards }, before.id);
    const statements = await generateMigration(before, after);
    expect(statements.filter((s) => s.startsWith("CREATE POLICY"))).toHaveLength(5);
    await t.db.transaction(async (tx) => {
      for (const s of statements) await tx.execute(sql.raw(s));
    });

    expect(await catalogProblems(t.db, registry)).toEqual([
      "flashcards: row-level security is not enabled and forced",
      "flashcards: no inherit_owner trigger (sql/triggers/inherit_owner.sql)",
      "flashcards: sensa_app may not SELECT, INSERT, UPDATE, DELETE (sql/grants/grants.sql)",
      "flashcards: admin_role may not SELECT, INSERT, UPDATE, DELETE (sql/grants/grants.sql)",
    ]);

    // The sql/ edits, as they would read in sql/policies/, sql/triggers/inherit_owner.sql and sql/grants/grants.sql.
    const edits = [
      "ALTER TABLE flashcards FORCE ROW LEVEL SECURITY",
      `CREATE FUNCTION inherit_owner_flashcards() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        SELECT c.user_id, c.course_id INTO NEW.user_id, NEW.course_id FROM chapters c WHERE c.id = NEW.chapter_id;
        IF NOT FOUND THEN PERFORM raise_parent_not_visible('flashcards', 'chapter', NEW.chapter_id); END IF;
        RETURN NEW;
      END;
      $$`,
      "CREATE TRIGGER inherit_owner BEFORE INSERT OR UPDATE ON flashcards FOR EACH ROW EXECUTE FUNCTION inherit_owner_flashcards()",
      "GRANT SELECT, INSERT, UPDATE, DELETE ON flashcards TO sensa_app, admin_role",
    ];
    for (const edit of edits) await t.db.execute(sql.raw(edit));
    expect(await catalogProblems(t.db, registry)).toEqual([]);

    const ana = await createUser(t.db);
    const bob = await createUser(t.db);
    const tree = await createCourseTree(t.db, ana.id);
    const [card] = await withUserContext(t.db, ana.id, (tx) =>
      tx.insert(flashcards).values({ chapterId: tree.chapters[0]!.id, front: "What is ATP?" }).returning(),
    );
    expect(card).toMatchObject({ userId: ana.id, courseId: tree.course.id });
    expect(await withUserContext(t.db, bob.id, (tx) => tx.select().from(flashcards))).toEqual([]);
    const planted = await pgErrorOf(
      withUserContext(t.db, bob.id, (tx) =>
        tx.insert(flashcards).values({ chapterId: tree.chapters[0]!.id, front: "planted" }),
      ),
    );
    expect(planted.message).toMatch(/does not exist or is not visible/);
    expect(await withUserContext(t.db, ana.id, (tx) => tx.select().from(flashcards))).toHaveLength(1);
  });
});
