import { sql } from "drizzle-orm";
import { getTableConfig } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as schema from "../src/schema/index.js";
import {
  chapterSchemas,
  courseSchemas,
  courses,
  keywords,
  relationships,
  userAnnotations,
  userProfiles,
  userProgress,
  users,
  withAdmin,
  withUserContext,
  type Course,
  type NewCourse,
} from "../src/index.js";
import { queryRows } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { pgErrorOf } from "./support/errors.js";
import { createCourseTree, createUser, embeddingAlong } from "./support/fixtures.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

const rows = (query: string) => queryRows(t.db, sql.raw(query));
// The platform tables are the user-owned ones (src/schema/user-owned.ts); migrations_log is the other.
const platformTables = schema.userOwnedTables.map((o) => o.table);

describe("enums", () => {
  it.each([
    ["user_role", ["user", "admin", "moderator"]],
    ["processing_status_enum", ["pending", "processing", "completed", "failed"]],
    ["feedback_type_enum", ["concept_map", "processing", "general", "analogy"]],
    ["learning_style_enum", ["visual", "auditory", "kinesthetic", "reading"]],
    ["complexity_level_enum", ["high", "medium", "low"]],
  ])("%s has exactly the spec's values, in order", async (name, values) => {
    const found = await rows(
      `SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = '${name}' ORDER BY e.enumsortorder`,
    );
    expect(found.map((r) => r.enumlabel)).toEqual(values);
  });
});

describe("tables", () => {
  it("are exactly the 10 platform tables plus migrations_log", async () => {
    const found = await rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    expect(found.map((r) => r.tablename)).toEqual(
      [...platformTables.map((tb) => getTableConfig(tb).name), "migrations_log"].sort(),
    );
  });

  it.each(platformTables.map((tb) => [getTableConfig(tb).name, tb] as const))(
    "%s has every column of its Drizzle definition, with the same type and nullability",
    async (name, table) => {
      const live = await rows(
        `SELECT column_name, is_nullable, udt_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '${name}' ORDER BY column_name`,
      );
      const defined = getTableConfig(table).columns.map((c) => ({
        column_name: c.name,
        is_nullable: c.notNull ? "NO" : "YES",
        udt_name: c
          .getSQLType()
          .replace(/\(.*\)/, "")
          .replace("[]", "")
          .replace("timestamp with time zone", "timestamptz"),
      }));
      const normalise = (r: Record<string, unknown>) => ({
        column_name: r.column_name,
        is_nullable: r.is_nullable,
        udt_name: String(r.udt_name)
          .replace(/^_/, "")
          .replace(/^int4$/, "integer")
          .replace(/^int8$/, "bigint")
          .replace(/^int2$/, "smallint")
          .replace(/^bool$/, "boolean")
          .replace(/^float4$/, "real"),
      });
      expect(live.map(normalise)).toEqual(defined.sort((a, b) => a.column_name.localeCompare(b.column_name)));
    },
  );

  it("uses UUID primary keys and timestamptz created_at/updated_at on every platform table", async () => {
    for (const table of platformTables) {
      const config = getTableConfig(table);
      expect(config.columns.find((c) => c.primary)?.getSQLType(), config.name).toBe("uuid");
      for (const col of ["created_at", "updated_at"]) {
        expect(config.columns.find((c) => c.name === col)?.getSQLType(), `${config.name}.${col}`).toBe(
          "timestamp with time zone",
        );
      }
    }
  });
});

describe("embeddings", () => {
  it("are 768-dimension vector columns on processed documents, chapters and keywords", async () => {
    const found = await rows(
      `SELECT c.relname AS table, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE a.attname = 'embedding' AND c.relkind = 'r' ORDER BY 1`,
    );
    expect(found).toEqual([
      { table: "chapters", type: "vector(768)" },
      { table: "keywords", type: "vector(768)" },
      { table: "processed_documents", type: "vector(768)" },
    ]);
  });

  it("rejects a 767-dimension embedding", async () => {
    const user = await createUser(t.db);
    const tree = await createCourseTree(t.db, user.id);
    const short = `[${new Array(767).fill(0.1).join(",")}]`;
    const error = await pgErrorOf(
      withAdmin(t.db, (tx) =>
        tx.execute(sql`UPDATE chapters SET embedding = ${short}::vector WHERE id = ${tree.chapters[0]!.id}`),
      ),
    );
    expect(error.message).toMatch(/expected 768 dimensions, not 767/);
  });
});

describe("constraints", () => {
  it("cascades a user's deletion to everything they own", async () => {
    const user = await createUser(t.db);
    const tree = await createCourseTree(t.db, user.id);
    await withAdmin(t.db, (tx) => tx.delete(users).where(sql`id = ${user.id}`));
    const left = await withAdmin(t.db, (tx) =>
      queryRows(
        tx,
        sql`SELECT (SELECT count(*) FROM courses WHERE id = ${tree.course.id}) + (SELECT count(*) FROM keywords WHERE id = ${tree.keyword.id}) AS n`,
      ),
    );
    expect(Number(left[0]!.n)).toBe(0);
  });

  it.each([
    [
      "a progress percentage above 100",
      "INSERT INTO user_progress (user_id, chapter_id, completion_percentage) VALUES ($user, $chapter, 100.5)",
      "user_progress_completion_percentage_check",
    ],
    [
      "negative time spent",
      "INSERT INTO user_progress (user_id, chapter_id, time_spent_seconds) VALUES ($user, $chapter, -1)",
      "user_progress_time_spent_seconds_check",
    ],
    [
      "a rating of 6",
      "INSERT INTO user_annotations (user_id, chapter_id, feedback_type, rating) VALUES ($user, $chapter, 'general', 6)",
      "user_annotations_rating_check",
    ],
    [
      "a relationship strength of 1.5",
      "INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type, strength) VALUES ($keyword, $keyword2, 'is_a', 1.5)",
      "relationships_strength_check",
    ],
    [
      "a keyword related to itself",
      "INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) VALUES ($keyword, $keyword, 'is_a')",
      "relationships_no_self_loop_check",
    ],
    [
      "a chapter number of 0",
      "INSERT INTO chapters (processed_document_id, chapter_number, title) VALUES ($processed, 0, 'x')",
      "chapters_chapter_number_check",
    ],
    [
      "a second profile for one user",
      "INSERT INTO user_profiles (user_id) VALUES ($user); INSERT INTO user_profiles (user_id) VALUES ($user)",
      "user_profiles_user_id_unique",
    ],
    [
      "a second progress row for one user and chapter",
      "INSERT INTO user_progress (user_id, chapter_id) VALUES ($user, $chapter); INSERT INTO user_progress (user_id, chapter_id) VALUES ($user, $chapter)",
      "user_progress_user_id_chapter_id_unique",
    ],
    [
      "a duplicate relationship",
      "INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) VALUES ($keyword, $keyword2, 'is_a'); INSERT INTO relationships (source_keyword_id, target_keyword_id, relationship_type) VALUES ($keyword, $keyword2, 'is_a')",
      "relationships_source_target_type_unique",
    ],
    [
      "a second user with the same Cognito subject",
      "INSERT INTO users (cognito_sub, email) VALUES ('dup', 'a@x.io'); INSERT INTO users (cognito_sub, email) VALUES ('dup', 'b@x.io')",
      "users_cognito_sub_unique",
    ],
  ])("rejects %s", async (_, statement, constraint) => {
    const user = await createUser(t.db);
    const tree = await createCourseTree(t.db, user.id);
    const [second] = await withAdmin(t.db, (tx) =>
      tx
        .insert(keywords)
        .values({ chapterId: tree.chapters[0]!.id, term: `ribosome-${user.id}` })
        .returning(),
    );
    const filled = statement
      .replaceAll("$user", `'${user.id}'`)
      .replaceAll("$chapter", `'${tree.chapters[0]!.id}'`)
      .replaceAll("$keyword2", `'${second!.id}'`)
      .replaceAll("$keyword", `'${tree.keyword.id}'`)
      .replaceAll("$processed", `'${tree.processed.id}'`);
    const error = await pgErrorOf(
      withAdmin(t.db, async (tx) => {
        for (const s of filled.split("; ")) await tx.execute(sql.raw(s));
      }),
    );
    expect(error.constraint).toBe(constraint);
  });
});

describe("indexes", () => {
  it("cover every foreign key column", async () => {
    const unindexed = await rows(`
      SELECT c.conrelid::regclass AS table, a.attname AS column
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        AND NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])`);
    expect(unindexed).toEqual([]);
  });

  it("include HNSW cosine indexes on every embedding and GIN trigram indexes on searched text", async () => {
    const found = await rows(`SELECT indexname FROM pg_indexes WHERE indexdef ~ '(hnsw|gin_trgm_ops)' ORDER BY 1`);
    expect(found.map((r) => r.indexname)).toEqual([
      "chapters_embedding_idx",
      "courses_description_trgm_idx",
      "courses_title_trgm_idx",
      "keywords_embedding_idx",
      "keywords_term_trgm_idx",
      "processed_documents_embedding_idx",
    ]);
  });

  it("serve a nearest-neighbour query from the HNSW index", async () => {
    const plan = await withAdmin(t.db, async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      return queryRows(
        tx,
        sql.raw(`EXPLAIN SELECT id FROM keywords ORDER BY embedding <=> '[${embeddingAlong(3).join(",")}]' LIMIT 5`),
      );
    });
    expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index Scan using keywords_embedding_idx/);
  });

  // Under row-level security PostgreSQL may not use a non-LEAKPROOF operator such as <% as an
  // index condition (it could leak hidden rows), and only a superuser can mark it leakproof.
  // So the GIN index serves unfiltered roles, and user-scoped search is narrowed by the
  // course_id / user_id indexes that the functions and policies filter on.
  it("serve a trigram similarity query from the GIN index where no policy filters", async () => {
    const plan = await t.superuserRows(
      `SET enable_seqscan = off; EXPLAIN SELECT id FROM keywords WHERE 'mitocondria' <% term`,
    );
    expect(plan.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/keywords_term_trgm_idx/);
  });

  it("serve a user's keyword search from the course_id or user_id index under row-level security", async () => {
    const user = await createUser(t.db);
    const tree = await createCourseTree(t.db, user.id);
    const plan = await withUserContext(t.db, user.id, async (tx) => {
      await tx.execute(sql`SET LOCAL enable_seqscan = off`);
      return queryRows(
        tx,
        sql.raw(`EXPLAIN SELECT id FROM keywords WHERE course_id = '${tree.course.id}' AND 'mitocondria' <% term`),
      );
    });
    const text = plan.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toMatch(/Index Scan on keywords_(course|user)_id_idx/);
    expect(text).not.toMatch(/Seq Scan/);
  });
});

describe("exported types", () => {
  it("round-trip a row of every table through Drizzle and its zod schema", async () => {
    const user = await createUser(t.db);
    const tree = await createCourseTree(t.db, user.id);
    const newCourse: NewCourse = courseSchemas.insert.parse({ userId: user.id, title: "Genetics", subject: "biology" });
    const inserted: Course = await withAdmin(
      t.db,
      async (tx) => (await tx.insert(courses).values(newCourse).returning())[0]!,
    );
    expect(courseSchemas.select.parse(inserted)).toEqual(inserted);
    expect(inserted).toMatchObject({ title: "Genetics", subject: "biology", isArchived: false, userId: user.id });
    expect(() =>
      chapterSchemas.insert.parse({ processedDocumentId: tree.processed.id, chapterNumber: 0, title: "x" }),
    ).toThrow();

    const everything = await withAdmin(t.db, async (tx) => {
      await tx.insert(userProfiles).values({ userId: user.id, learningStyle: "visual", interests: ["cells"] });
      await tx
        .insert(userProgress)
        .values({ userId: user.id, chapterId: tree.chapters[0]!.id, completionPercentage: 42.5, timeSpentSeconds: 90 });
      await tx.insert(userAnnotations).values({
        userId: user.id,
        chapterId: tree.chapters[0]!.id,
        feedbackType: "analogy",
        rating: 4,
        target: { node: "n1" },
      });
      const [k2] = await tx.insert(keywords).values({ chapterId: tree.chapters[0]!.id, term: "ATP" }).returning();
      await tx.insert(relationships).values({
        sourceKeywordId: tree.keyword.id,
        targetKeywordId: k2!.id,
        relationshipType: "produces",
        strength: 0.9,
      });
      return tx.query.users.findFirst({
        where: (u, { eq }) => eq(u.id, user.id),
        with: {
          profile: true,
          progress: true,
          annotations: true,
          courses: {
            with: {
              documents: {
                with: { processed: { with: { chapters: { with: { keywords: { with: { outgoing: true } } } } } } },
              },
            },
          },
        },
      });
    });
    expect(everything?.profile).toMatchObject({
      learningStyle: "visual",
      interests: ["cells"],
      preferredComplexity: "medium",
    });
    expect(everything?.progress[0]).toMatchObject({
      completionPercentage: 42.5,
      timeSpentSeconds: 90,
      courseId: tree.course.id,
    });
    expect(everything?.annotations[0]).toMatchObject({ feedbackType: "analogy", rating: 4, target: { node: "n1" } });
    const keyword = everything?.courses[0]?.documents[0]?.processed?.chapters
      .find((c) => c.chapterNumber === 1)
      ?.keywords.find((k) => k.term === "mitochondria");
    expect(keyword?.embedding).toHaveLength(768);
    expect(keyword?.outgoing[0]).toMatchObject({
      relationshipType: "produces",
      strength: expect.closeTo(0.9, 5),
      userId: user.id,
    });
  });
});
