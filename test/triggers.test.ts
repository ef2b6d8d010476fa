import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chapters,
  courseDocuments,
  courses,
  userProgress,
  withAdmin,
  withUserContext,
  type ProcessingStatus,
} from "../src/index.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";
import { pgErrorOf } from "./support/errors.js";
import { createCourseTree, createUser } from "./support/fixtures.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

describe("updated_at", () => {
  it("has the set_updated_at trigger on every table with an updated_at column", async () => {
    const missing = await t.superuserRows(`
      SELECT a.attrelid::regclass::text AS table FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE a.attname = 'updated_at' AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
        AND NOT EXISTS (SELECT FROM pg_trigger tg WHERE tg.tgrelid = a.attrelid AND tg.tgname = 'set_updated_at')`);
    expect(missing).toEqual([]);
  });

  it("moves forward on update, whatever the client sends", async () => {
    const user = await createUser(t.db);
    const { course } = await createCourseTree(t.db, user.id);
    const [updated] = await withAdmin(t.db, (tx) =>
      tx
        .update(courses)
        .set({ title: "Renamed", updatedAt: new Date("2000-01-01") })
        .where(eq(courses.id, course.id))
        .returning(),
    );
    expect(updated!.updatedAt.getTime()).toBeGreaterThan(course.updatedAt.getTime());
  });
});

describe("document processing status", () => {
  const move = (id: string, status: ProcessingStatus, processingError?: string) =>
    withAdmin(
      t.db,
      async (tx) =>
        (
          await tx
            .update(courseDocuments)
            .set({ processingStatus: status, processingError })
            .where(eq(courseDocuments.id, id))
            .returning()
        )[0]!,
    );

  it("stamps processing_started_at when processing starts and processing_completed_at when it completes", async () => {
    const user = await createUser(t.db);
    const { document } = await createCourseTree(t.db, user.id);
    expect(document).toMatchObject({
      processingStatus: "pending",
      processingStartedAt: null,
      processingCompletedAt: null,
    });
    const started = await move(document.id, "processing");
    expect(started.processingStartedAt).toBeInstanceOf(Date);
    expect(started.processingCompletedAt).toBeNull();
    const done = await move(document.id, "completed");
    expect(done.processingCompletedAt!.getTime()).toBeGreaterThanOrEqual(started.processingStartedAt!.getTime());
  });

  it("keeps the error of a failure and clears it on retry", async () => {
    const user = await createUser(t.db);
    const { document } = await createCourseTree(t.db, user.id);
    await move(document.id, "processing");
    expect(await move(document.id, "failed", "PDF is encrypted")).toMatchObject({
      processingError: "PDF is encrypted",
    });
    expect(await move(document.id, "pending")).toMatchObject({
      processingError: null,
      processingStartedAt: null,
      processingCompletedAt: null,
    });
  });

  it.each([
    ["pending", "completed"],
    ["completed", "failed"],
    ["completed", "processing"],
    ["failed", "completed"],
  ] as const)("rejects the illegal transition %s -> %s with a clear error", async (from, to) => {
    const user = await createUser(t.db);
    const { document } = await createCourseTree(t.db, user.id);
    const path: Record<string, ProcessingStatus[]> = {
      pending: [],
      completed: ["processing", "completed"],
      failed: ["processing", "failed"],
    };
    for (const step of path[from]!) await move(document.id, step);
    const error = await pgErrorOf(move(document.id, to));
    expect(error.message).toBe(`illegal processing status transition for document ${document.id}: ${from} -> ${to}`);
  });
});

describe("owner and course copies", () => {
  it("copy the owner and course from the parent, overriding what the client sent", async () => {
    const owner = await createUser(t.db);
    const other = await createUser(t.db);
    const tree = await createCourseTree(t.db, owner.id);
    const [chapter] = await withAdmin(t.db, (tx) =>
      tx
        .insert(chapters)
        .values({
          processedDocumentId: tree.processed.id,
          chapterNumber: 9,
          title: "Appendix",
          userId: other.id,
          courseId: randomUUID(),
        })
        .returning(),
    );
    expect(chapter).toMatchObject({ userId: owner.id, courseId: tree.course.id });
  });

  it("are filled in for a user's own inserts without naming them", async () => {
    const owner = await createUser(t.db);
    const tree = await createCourseTree(t.db, owner.id);
    const [chapter] = await withUserContext(t.db, owner.id, (tx) =>
      tx
        .insert(chapters)
        .values({ processedDocumentId: tree.processed.id, chapterNumber: 7, title: "Mine" })
        .returning(),
    );
    expect(chapter).toMatchObject({ userId: owner.id, courseId: tree.course.id });
  });

  it("never let a course change owner", async () => {
    const owner = await createUser(t.db);
    const other = await createUser(t.db);
    const { course } = await createCourseTree(t.db, owner.id);
    const error = await pgErrorOf(
      withAdmin(t.db, (tx) => tx.update(courses).set({ userId: other.id }).where(eq(courses.id, course.id))),
    );
    expect(error.message).toMatch(/a course cannot change owner/);
  });
});

describe("progress completion", () => {
  it("sets completed_at on reaching 100% and clears it when progress is reset", async () => {
    const user = await createUser(t.db);
    const tree = await createCourseTree(t.db, user.id);
    const set = (completionPercentage: number) =>
      withUserContext(t.db, user.id, async (tx) => {
        await tx
          .insert(userProgress)
          .values({ userId: user.id, chapterId: tree.chapters[0]!.id, completionPercentage })
          .onConflictDoUpdate({ target: [userProgress.userId, userProgress.chapterId], set: { completionPercentage } });
        return (
          await tx
            .select()
            .from(userProgress)
            .where(sql`chapter_id = ${tree.chapters[0]!.id}`)
        )[0]!;
      });
    expect((await set(40)).completedAt).toBeNull();
    const done = await set(100);
    expect(done.completedAt).toBeInstanceOf(Date);
    expect((await set(100)).completedAt).toEqual(done.completedAt);
    expect((await set(10)).completedAt).toBeNull();
  });
});
