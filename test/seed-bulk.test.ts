import { sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/query.js";
import { catalogSnapshot } from "../src/migrations/catalog.js";
import { checkInheritedOwners, InheritedOwnerMismatchError, seed } from "../src/seed/index.js";
import { LOAD_ORDER } from "../src/seed/load.js";
import { inSeedTransaction } from "../src/seed/session.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { createCourseTree, createUser } from "./support/fixtures.js";

// A large seed on a server (binary COPY, indexes deferred) loads with PostgreSQL's "Populating a
// Database" recipe inside its one transaction: the inherit_owner triggers disabled, the foreign
// keys and the secondary indexes dropped, all put back after the load, and what the triggers
// would have enforced checked set-based (src/seed/bulk.ts).
const TABLES = LOAD_ORDER.map(([, table]) => getTableConfig(table).name);
const RELATIONS = `'{${TABLES.join(",")}}'::regclass[]`;

/**
 * Every constraint (definition, validated), index (definition, valid, comment) and trigger
 * (enabled) of the seeded tables, one line each. RI's internal triggers are left out: their
 * names carry OIDs, and the foreign keys they belong to are listed.
 */
const CATALOG = `
SELECT 'constraint ' || conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) || ' validated=' || convalidated AS line
FROM pg_constraint WHERE conrelid = ANY(${RELATIONS})
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) || ' valid=' || (indisvalid AND indisready) || ' comment=' || coalesce(obj_description(indexrelid, 'pg_class'), '-')
FROM pg_index WHERE indrelid = ANY(${RELATIONS})
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || '.' || tgname || ': ' || pg_get_triggerdef(oid) || ' enabled=' || tgenabled::text
FROM pg_trigger WHERE tgrelid = ANY(${RELATIONS}) AND NOT tgisinternal
ORDER BY 1`;

/** The catalog lines, read as the non-superuser owner in a session of their own (server) or PGlite's one session. */
async function seededCatalog(d: TestDatabase): Promise<string[]> {
  if (d.kind === "embedded") return (await queryRows(d.db, sql.raw(CATALOG))).map((r) => String(r.line));
  const client = new pg.Client({ connectionString: d.url });
  await client.connect();
  try {
    return (await client.query<{ line: string }>(CATALOG)).rows.map((r) => r.line);
  } finally {
    await client.end();
  }
}

const count = (lines: string[], prefix: RegExp) => lines.filter((l) => prefix.test(l)).length;

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

describe("a bulk seed (binary COPY, deferred indexes)", () => {
  it("leaves every constraint, index and trigger of the seeded tables as it found them: definitions, names, NOT VALID, comments, enabled", async () => {
    // Two things pg_get_*def alone would lose if the restore were careless.
    for (const statement of [
      "ALTER TABLE user_annotations DROP CONSTRAINT user_annotations_chapter_id_chapters_id_fk",
      "ALTER TABLE user_annotations ADD CONSTRAINT user_annotations_chapter_id_chapters_id_fk FOREIGN KEY (chapter_id) REFERENCES chapters(id) ON DELETE CASCADE NOT VALID",
      "COMMENT ON INDEX keywords_user_id_idx IS 'the owner policies filter on it'",
    ])
      await t.db.execute(sql.raw(statement));
    const before = await seededCatalog(t);
    expect(before).toContain(
      "constraint user_annotations.user_annotations_chapter_id_chapters_id_fk: FOREIGN KEY (chapter_id) REFERENCES chapters(id) ON DELETE CASCADE NOT VALID validated=false",
    );
    const schema = await catalogSnapshot(t.db);

    const result = await seed(t.db, {
      seed: 21,
      users: 100,
      coursesPerUser: 1,
      documentsPerCourse: 2,
      chaptersPerDocument: 1,
      keywordsPerChapter: 2,
      relationshipsPerChapter: 1,
      annotationsPerUser: 1,
      deferIndexes: true,
    });

    expect(await seededCatalog(t)).toEqual(before);
    expect(await catalogSnapshot(t.db)).toEqual(schema);
    if (t.kind === "server") {
      // It did suspend them: every foreign key, every secondary index but the HNSW ones, every inherit_owner trigger.
      expect(result.loader).toBe("copy");
      expect(result.load.restore).toMatchObject({
        foreignKeys: count(before, /^constraint .*: FOREIGN KEY /),
        indexes: count(before, /^index CREATE INDEX (?!.* USING hnsw )/),
        triggers: count(before, /^trigger [a-z_]+\.inherit_owner: /),
      });
      expect(result.load.restore!.triggers).toBe(7);
      expect(result.load.restore!.seconds).toBeLessThanOrEqual(result.load.seconds);
    } else {
      // PGlite INSERTs as admin_role, its triggers and keys in place.
      expect(result.loader).toBe("insert");
      expect(result.load.restore).toBeNull();
    }
  });

  it("writes the owner and course columns the triggers would have copied: every child row agrees with its parent", async () => {
    const { userIds } = await seed(t.db, {
      seed: 22,
      users: 3,
      chaptersPerDocument: 2,
      keywordsPerChapter: 3,
      relationshipsPerChapter: 2,
      deferIndexes: true,
    });
    const [row] = await t.superuserRows(`
      SELECT ((SELECT count(*) FROM course_documents d JOIN courses c ON c.id = d.course_id WHERE d.user_id <> c.user_id)
        + (SELECT count(*) FROM processed_documents p JOIN course_documents d ON d.id = p.document_id WHERE (p.user_id, p.course_id) <> (d.user_id, d.course_id))
        + (SELECT count(*) FROM chapters c JOIN processed_documents p ON p.id = c.processed_document_id WHERE (c.user_id, c.course_id) <> (p.user_id, p.course_id))
        + (SELECT count(*) FROM keywords k JOIN chapters c ON c.id = k.chapter_id WHERE (k.user_id, k.course_id) <> (c.user_id, c.course_id))
        + (SELECT count(*) FROM relationships r JOIN keywords s ON s.id = r.source_keyword_id JOIN keywords g ON g.id = r.target_keyword_id WHERE r.user_id <> s.user_id OR r.user_id <> g.user_id)
        + (SELECT count(*) FROM user_progress u JOIN chapters c ON c.id = u.chapter_id WHERE u.course_id <> c.course_id)
        )::int AS disagreeing,
        (SELECT count(*) FROM keywords WHERE user_id = ANY('{${userIds.join(",")}}'::uuid[]))::int AS keywords`);
    expect(row).toEqual({ disagreeing: 0, keywords: 3 * 2 * 3 * 2 * 3 });
  });
});

/** Rolls a test's transaction back once it has checked what it wanted. */
class RolledBack extends Error {}

describe("the set-based ownership check (what the inherit_owner triggers enforce, over rows written with them disabled)", () => {
  const plants = [
    {
      rule: "a course document must carry its course's owner",
      table: "course_documents",
      mismatch: { table: "course_documents", parent: "courses", columns: ["course_id"], rows: 1 },
      row: (a: Tree, b: Tree, n: string) =>
        `INSERT INTO course_documents (course_id, user_id, file_name, s3_key, mime_type) VALUES ('${a.course.id}', '${n === "good" ? a.userId : b.userId}', 'planted.pdf', 'planted/${n}.pdf', 'application/pdf')`,
    },
    {
      rule: "a relationship's target keyword must be its owner's",
      table: "relationships",
      mismatch: { table: "relationships", parent: "keywords", columns: ["target_keyword_id"], rows: 1 },
      row: (a: Tree, b: Tree, n: string) =>
        `INSERT INTO relationships (source_keyword_id, target_keyword_id, user_id, relationship_type) VALUES ('${a.keyword.id}', '${n === "good" ? a.keyword2 : b.keyword.id}', '${a.userId}', 'planted_${n}')`,
    },
    {
      rule: "an annotation may only point at its author's documents",
      table: "user_annotations",
      mismatch: {
        table: "user_annotations",
        parent: "processed_documents",
        columns: ["processed_document_id"],
        rows: 1,
      },
      row: (a: Tree, b: Tree, n: string) =>
        `INSERT INTO user_annotations (user_id, processed_document_id, feedback_type, comment) VALUES ('${a.userId}', '${n === "good" ? a.processed.id : b.processed.id}', 'general', 'planted ${n}')`,
    },
  ];

  type Tree = Awaited<ReturnType<typeof createCourseTree>> & { userId: string; keyword2: string };
  const tree = async (): Promise<Tree> => {
    const user = await createUser(t.db);
    const made = await createCourseTree(t.db, user.id);
    // A second keyword of the same owner, for a relationship that is consistent.
    const [second] = await t.superuserRows(
      `INSERT INTO keywords (chapter_id, term) VALUES ('${made.chapters[1]!.id}', 'organelle') RETURNING id`,
    );
    return { ...made, userId: user.id, keyword2: String(second!.id) };
  };

  it.each(plants)(
    "refuses a row written with the trigger disabled that breaks the rule ($rule), naming $table and the count; the database is unchanged after",
    async ({ table, mismatch, row }) => {
      const a = await tree();
      const b = await tree();
      const schema = await catalogSnapshot(t.db);
      const catalog = await seededCatalog(t);
      const rows = async () => (await t.superuserRows(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
      const rowsBefore = await rows();
      let refused: unknown;
      await expect(
        inSeedTransaction(t.db, async (s) => {
          // As the seed does: the owner sees every row, the trigger is off.
          for (const name of TABLES) await s.run(`ALTER TABLE ${name} NO FORCE ROW LEVEL SECURITY`);
          await s.run(`ALTER TABLE ${table} DISABLE TRIGGER inherit_owner`);
          await s.run(row(a, b, "good"));
          await checkInheritedOwners(s); // a consistent row passes
          await s.run(row(a, b, "bad"));
          refused = await checkInheritedOwners(s).then(
            () => undefined,
            (e: unknown) => e,
          );
          throw new RolledBack();
        }),
      ).rejects.toBeInstanceOf(RolledBack);
      expect(refused).toBeInstanceOf(InheritedOwnerMismatchError);
      expect((refused as InheritedOwnerMismatchError).code).toBe("INHERITED_OWNER_MISMATCH");
      expect((refused as InheritedOwnerMismatchError).mismatches).toEqual([mismatch]);
      expect((refused as Error).message).toContain(`1 row(s) of ${table}`);
      expect(await rows()).toBe(rowsBefore);
      expect(await seededCatalog(t)).toEqual(catalog);
      expect(await catalogSnapshot(t.db)).toEqual(schema);
    },
  );
});
