// The embedded entries (need the optional peers @electric-sql/pglite and -pgvector), type-checked.
import { closeDb, courses, withUserContext, type Database } from "@sensa-learn/db";
import { createEmbeddedDb, embeddedExtensions, wrapPglite } from "@sensa-learn/db/embedded";
import { createTestDb, TEST_DB_OWNER } from "@sensa-learn/db/testing";
import { PGlite } from "@electric-sql/pglite";

export async function embedded(userId: string): Promise<void> {
  const local: Database = await createEmbeddedDb({ dataDir: "./.sensa-db" });
  const wrapped: Database = wrapPglite(await PGlite.create({ extensions: embeddedExtensions }));
  const test: Database = await createTestDb();
  console.log(TEST_DB_OWNER, await withUserContext(test, userId, (tx) => tx.select().from(courses)));
  for (const db of [local, wrapped, test]) await closeDb(db);
}
