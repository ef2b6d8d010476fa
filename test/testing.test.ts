import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { closeDb, courses, migrationsLog, users, withAdmin, withUserContext } from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { createTestDb, TEST_DB_OWNER } from "../src/testing.js";

// createTestDb (@sensa-learn/db/testing) is what other services' tests use: always embedded,
// whichever backend this run's own harness picked.
describe("createTestDb", () => {
  it("is migrated and acts as a non-superuser owner, so row-level security applies to it", async () => {
    const db = await createTestDb();
    try {
      const rows = await queryRows(
        db,
        sql`SELECT current_user AS "user", r.rolsuper AS super, r.rolbypassrls AS bypass FROM pg_roles r WHERE r.rolname = current_user`,
      );
      expect(rows).toEqual([{ user: TEST_DB_OWNER, super: false, bypass: false }]);
      const [ana] = await withAdmin(db, (tx) =>
        tx.insert(users).values({ cognitoSub: "ana", email: "ana@example.com" }).returning(),
      );
      const [bo] = await withAdmin(db, (tx) =>
        tx.insert(users).values({ cognitoSub: "bo", email: "bo@example.com" }).returning(),
      );
      await withAdmin(db, (tx) =>
        tx.insert(courses).values([
          { userId: ana!.id, title: "Biology" },
          { userId: bo!.id, title: "Chemistry" },
        ]),
      );

      expect(await db.select().from(courses)).toEqual([]); // the owner outside any context: FORCE RLS, no rows
      const mine = await withUserContext(db, ana!.id, (tx) => tx.select({ title: courses.title }).from(courses));
      expect(mine).toEqual([{ title: "Biology" }]);
    } finally {
      await closeDb(db);
    }
  });

  it("gives every call its own database, each a copy of one migrated template (not migrated again)", async () => {
    const first = await createTestDb();
    const second = await createTestDb();
    try {
      await withAdmin(first, (tx) =>
        tx.insert(users).values({ cognitoSub: "only-in-first", email: "first@example.com" }),
      );
      expect(await withAdmin(second, (tx) => tx.select().from(users))).toEqual([]);
      // Copies of one template carry its migrations_log rows, times included; a database migrated
      // again would log later times. (Was a wall-clock bound, which a loaded machine broke.)
      const applied = (db: typeof first) =>
        withAdmin(db, (tx) =>
          tx
            .select({ name: migrationsLog.migrationName, at: migrationsLog.appliedAt })
            .from(migrationsLog)
            .orderBy(migrationsLog.id),
        );
      const log = await applied(first);
      expect(log.length).toBeGreaterThan(0);
      expect(await applied(second)).toEqual(log);
    } finally {
      await closeDb(first);
      await closeDb(second);
    }
  });
});
