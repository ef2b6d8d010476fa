// Server run, as the owner (PG* variables): pick the README snippet's user, course and embedding
// from the seeded data, and write them where the snippet (run as the app login) reads them.
import { closeDb, createDb } from "@sensa-learn/db";
import { pickFixture, writeFixture } from "./fixture.js";

async function main(): Promise<void> {
  const owner = createDb();
  try {
    writeFixture(process.env.SNIPPET_FIXTURE!, await pickFixture(owner));
  } finally {
    await closeDb(owner);
  }
}
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
