import { existsSync } from "node:fs";
import { join } from "node:path";
import { pushSchema } from "drizzle-kit/api";
import pg from "pg";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drizzleConfig } from "../src/drizzle-config.js";
import * as schema from "../src/schema/index.js";
import { createCourseTree, createUser } from "./support/fixtures.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";

// drizzle-kit's own commands against a database this package migrated, as its owner: what
// `npx drizzle-kit push` would run (its dry run is pushSchema's statement list). Before
// migration 0004 it proposed 79 statements, among them 51 DROP POLICY, 11 DISABLE ROW LEVEL
// SECURITY, DROP TABLE migrations_log and the rebuild of a foreign key whose 64-character name
// PostgreSQL had truncated.

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

const push = async (imports: Record<string, unknown>, tablesFilter?: string[]) =>
  (await pushSchema(imports, t.db as unknown as PgDatabase<never>, ["public"], tablesFilter)).statementsToExecute;

/**
 * drizzle-kit reads an array column's default back by cutting off the cast and splitting the
 * text between the braces, so `'{}'` comes back as `'{""}'` (one empty string) and never matches
 * the schema: push re-sets this default on every run. It is the same value, so this statement is
 * harmless; no spelling of an empty-array default survives that reading.
 */
const DRIZZLE_KIT_EMPTY_ARRAY_DEFAULT = `ALTER TABLE "user_profiles" ALTER COLUMN "interests" SET DEFAULT '{}'::text[];`;

/**
 * On PGlite, drizzle-kit reads the columns of a multi-column unique constraint without ORDER BY
 * (information_schema.constraint_column_usage), gets them in another order than the schema's,
 * and proposes to rebuild keywords_chapter_id_term_unique and relationships_source_target_type_unique.
 * The server returns them in key order. What matters is the server, where push meets production.
 */
const onPglite = !onServer();

describe("drizzle-kit push on a fully migrated database", () => {
  it.skipIf(onPglite)(
    "proposes no statement that touches a policy, row-level security, migrations_log or a constraint",
    async () => {
      const statements = await push(schema);
      const dangerous = statements.filter((s) => /POLICY|ROW LEVEL SECURITY|migrations_log|CONSTRAINT/i.test(s));
      expect(dangerous, `push would run:\n${statements.join("\n")}`).toEqual([]);
    },
  );

  it.runIf(onPglite)(
    "on PGlite, proposes only that default and the two unique constraints it reads in another column order",
    async () => {
      const statements = await push(schema);
      const rebuilt = statements.filter((s) => s.includes("CONSTRAINT")).map((s) => /CONSTRAINT "([^"]+)"/.exec(s)![1]);
      expect(statements.filter((s) => !s.includes("CONSTRAINT"))).toEqual([DRIZZLE_KIT_EMPTY_ARRAY_DEFAULT]);
      expect([...new Set(rebuilt)].sort()).toEqual([
        "keywords_chapter_id_term_unique",
        "relationships_source_target_type_unique",
      ]);
    },
  );

  it.skipIf(onPglite)("proposes nothing else but re-setting one default it misreads", async () => {
    const statements = await push(schema);
    expect(statements, `push would run:\n${statements.join("\n")}`).toEqual([DRIZZLE_KIT_EMPTY_ARRAY_DEFAULT]);
  });

  it("finds migrations_log exactly as the schema declares it (columns, identity, defaults, index, check)", async () => {
    // Only this table (and the enums, which the table filter does not cover): its pgTable
    // (src/schema/migrations-log.ts) against the table 0000_bootstrap.sql created.
    const { migrationsLog, userRole, processingStatus, feedbackType, learningStyle, complexityLevel } = schema;
    const only = { migrationsLog, userRole, processingStatus, feedbackType, learningStyle, complexityLevel };
    expect(await push(only, ["migrations_log"])).toEqual([]);
  });

  it("would drop migrations_log if the schema left it out (so the schema must export it)", async () => {
    const { migrationsLog: _log, ...withoutLog } = schema;
    const statements = await push(withoutLog);
    expect(statements).toContain(`DROP TABLE "migrations_log" CASCADE;`);
  });
});

describe("the consumer drizzle-kit config (@sensa-learn/db/drizzle-config)", () => {
  it("points at the package's schema and migrations, found from the module's own location", () => {
    const config = drizzleConfig({ url: "postgres://owner@db.internal/sensa" });
    // From the repo (tsx, vitest) the schema is the source; from node_modules, dist/src/schema/index.js.
    expect(config.schema).toBe(join("src", "schema", "index.ts")); // relative: drizzle-kit prefixes ./ to paths
    expect(existsSync(config.schema)).toBe(true);
    expect(existsSync(join(config.out, "meta", "_journal.json"))).toBe(true);
    expect(config.dbCredentials.url).toBe("postgres://owner@db.internal/sensa");
    expect(config.migrations).toEqual({ table: "__drizzle_migrations", schema: "drizzle" });
  });

  it("refuses without a database", () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      expect(() => drizzleConfig()).toThrow(/set DATABASE_URL/);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  it.skipIf(onPglite)(
    "asOperator connects acting as admin_role, which sees the rows FORCEd RLS hides from the owner (server: PGlite has no URL)",
    async () => {
      const user = await createUser(t.db);
      await createCourseTree(t.db, user.id);
      const look = async (url: string) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query(
            "SELECT current_user AS role, (SELECT count(*)::int FROM courses) AS courses",
          );
          return rows[0] as { role: string; courses: number };
        } finally {
          await client.end();
        }
      };
      const operator = drizzleConfig({ url: t.url!, asOperator: true }).dbCredentials.url;
      expect(new URL(operator).searchParams.get("options")).toBe("-c role=admin_role");
      expect(await look(t.url!)).toMatchObject({ courses: 0 });
      expect(await look(operator)).toEqual({ role: "admin_role", courses: 1 });
    },
  );
});
