import { randomUUID } from "node:crypto";
import type { Database } from "../../src/index.js";
import {
  EMBEDDING_DIMENSIONS,
  chapters,
  courseDocuments,
  courses,
  keywords,
  processedDocuments,
  users,
  withAdmin,
} from "../../src/index.js";

/** A 768-dim vector pointing mostly along axis `axis`, tilted towards `tilt` by `amount`. */
export function embeddingAlong(axis: number, tilt?: { axis: number; amount: number }): number[] {
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  v[axis] = 1;
  if (tilt) v[tilt.axis] = tilt.amount;
  return v;
}

/** Cosine similarity of two vectors, to state expected answers in tests. */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    dot += x * b[i]!;
    na += x * x;
    nb += b[i]! * b[i]!;
  });
  return dot / Math.sqrt(na * nb);
}

/** A platform user, created as admin_role (only admin_role may set `role`). */
export async function createUser(db: Database, role: "user" | "moderator" | "admin" = "user") {
  const id = randomUUID();
  return withAdmin(db, async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({
        id,
        cognitoSub: `cognito-${id}`,
        email: `${id.slice(0, 8)}@example.com`,
        displayName: `User ${id.slice(0, 4)}`,
        role,
      })
      .returning();
    return user!;
  });
}

/** A course with one processed document and `chapterCount` chapters, owned by `userId`. */
export async function createCourseTree(
  db: Database,
  userId: string,
  options: { title?: string; chapterCount?: number; embedding?: number[] } = {},
) {
  return withAdmin(db, async (tx) => {
    const [course] = await tx
      .insert(courses)
      .values({ userId, title: options.title ?? "Cell Biology", description: "Cells and their parts" })
      .returning();
    const [document] = await tx
      .insert(courseDocuments)
      .values({
        courseId: course!.id,
        fileName: "cells.pdf",
        s3Key: `uploads/${randomUUID()}.pdf`,
        mimeType: "application/pdf",
      })
      .returning();
    const [processed] = await tx
      .insert(processedDocuments)
      .values({ documentId: document!.id, title: "Cells", embedding: options.embedding ?? embeddingAlong(0) })
      .returning();
    const chapterRows = [];
    for (let n = 1; n <= (options.chapterCount ?? 2); n++) {
      const [chapter] = await tx
        .insert(chapters)
        .values({
          processedDocumentId: processed!.id,
          chapterNumber: n,
          title: `Chapter ${n}`,
          embedding: embeddingAlong(n),
        })
        .returning();
      chapterRows.push(chapter!);
    }
    const [keyword] = await tx
      .insert(keywords)
      .values({
        chapterId: chapterRows[0]!.id,
        term: "mitochondria",
        definition: "The powerhouse of the cell",
        embedding: embeddingAlong(10),
      })
      .returning();
    return { course: course!, document: document!, processed: processed!, chapters: chapterRows, keyword: keyword! };
  });
}

/** Users "a" and "b", each owning one course titled `${prefix} a` / `${prefix} b`: the attacker and the victim. */
export async function twoUsersWithCourses(db: Database, prefix = "Course of") {
  const make = async (who: "a" | "b") => {
    const user = await createUser(db);
    const tree = await createCourseTree(db, user.id, { title: `${prefix} ${who}` });
    return { id: user.id, course: tree.course.id, sub: user.cognitoSub };
  };
  return { a: await make("a"), b: await make("b") };
}
