// The README snippet's free variables (userId, courseId, embedding), and the checks that what the
// README says of each result is true. Copied into each consumer project by .ci/pack-check.sh.
import { readFileSync, writeFileSync } from "node:fs";
import {
  closeDb,
  PermissionDeniedError,
  seed,
  withAdmin,
  type Course,
  type Database,
  type KeywordMatch,
  type SimilarDocument,
} from "@sensa-learn/db";

export interface Fixture {
  userId: string;
  courseId: string;
  embedding: number[];
}

/** As the owner (through admin_role): a seeded user with a biology course and a document embedding. */
export async function pickFixture(owner: Database): Promise<Fixture> {
  // Drizzle's operators come from the query callbacks, not from importing drizzle-orm: a
  // CommonJS project under nodenext would otherwise mix drizzle's CJS and ESM declarations.
  return withAdmin(owner, async (tx) => {
    const k = await tx.query.keywords.findFirst({
      columns: { userId: true, courseId: true },
      where: (k, { eq }) => eq(k.term, "mitochondria"),
    });
    if (!k) throw new Error("the seed has no course with the keyword mitochondria: seed more users");
    const d = await tx.query.processedDocuments.findFirst({
      columns: { embedding: true },
      where: (d, { and, eq, isNotNull }) => and(eq(d.userId, k.userId), isNotNull(d.embedding)),
    });
    if (!d?.embedding) throw new Error(`user ${k.userId} has no processed document with an embedding`);
    return { userId: k.userId, courseId: k.courseId, embedding: d.embedding };
  });
}

export const writeFixture = (path: string, f: Fixture) => writeFileSync(path, JSON.stringify(f));

/** On a server the owner picked the fixture beforehand (the snippet's login cannot); embedded, pick it here. */
export async function fixture(db: Database): Promise<Fixture> {
  const path = process.env.SNIPPET_FIXTURE;
  if (path) return JSON.parse(readFileSync(path, "utf8")) as Fixture;
  // The data set .ci/pack-check.sh seeds on the server (`sensa-db seed --users 5`, the default
  // seed), so both paths pick the same fixture: which users have a mitochondria keyword is the
  // generator's draw, and 3 users had none once the seed's normals changed.
  await seed(db, { users: 5 });
  return pickFixture(db);
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`README claim false: ${what}`);
  console.log(`  ok  ${what}`);
}

export interface SnippetResults {
  db: Database;
  ops: Database;
  userId: string;
  mine: Course[];
  similar: SimilarDocument[];
  terms: KeywordMatch[];
  everyone: Course[];
}

/** What the README says of each line, checked; then both databases closed. */
export async function check(r: SnippetResults): Promise<void> {
  expect(
    r.mine.length > 0 && r.mine.every((c) => c.userId === r.userId),
    `withUserContext: ${r.mine.length} courses, all the user's own`,
  );
  expect(
    r.everyone.some((c) => c.userId !== r.userId),
    `withAdmin: ${r.everyone.length} courses, other users' too`,
  );
  expect(
    r.similar.length > 0 && r.similar[0]!.similarity > 0.999 && r.similar.every((d) => d.similarity >= 0.7),
    `findSimilarDocuments: ${r.similar.length} documents, the user's own first (similarity ${r.similar[0]?.similarity.toFixed(3)}), all >= 0.7`,
  );
  const ownCourses = new Set(r.mine.map((c) => c.id));
  expect(
    r.similar.every((d) => ownCourses.has(d.courseId)),
    "findSimilarDocuments: only the user's documents (RLS)",
  );
  expect(
    r.terms.some((t) => t.term === "mitochondria"),
    `searchKeywords "mitocondria": finds ${r.terms.map((t) => t.term).join(", ")}`,
  );
  if (r.db !== r.ops) {
    // On a server the snippet's db is the app login: a member of sensa_app only.
    const refused = await withAdmin(r.db, async () => "allowed").catch((e: unknown) => e);
    expect(
      refused instanceof PermissionDeniedError && refused.sqlState === "42501",
      `the app login cannot act as admin_role (${String(refused)})`,
    );
  }
  for (const db of new Set([r.db, r.ops])) await closeDb(db);
}
