import { sql } from "drizzle-orm";
import pgvector from "pgvector";
import { z } from "zod";
import type { Queryable } from "../context.js";
import { embeddingInput, limitInput, parseInput, similarityInput, uuidInput } from "../validation.js";
import { num, queryRows, str, strOrNull } from "./rows.js";

const similarDocumentsInput = z.object({
  embedding: embeddingInput,
  limit: limitInput.default(10),
  threshold: similarityInput.default(0.7),
});
export type SimilarDocumentsInput = z.input<typeof similarDocumentsInput>;

export interface SimilarDocument {
  processedDocumentId: string;
  documentId: string;
  courseId: string;
  title: string;
  /** 1 - cosine distance: 1 is the same direction. */
  similarity: number;
}

/**
 * `find_similar_documents`: the processed documents nearest to an embedding, at least
 * `threshold` similar (default 0.7), at most `limit` (default 10), most similar first, among
 * the rows the current context may see.
 *
 * ```ts
 * const docs = await withUserContext(db, userId, (tx) => findSimilarDocuments(tx, { embedding }));
 * ```
 * Throws ValidationError (before any SQL) unless the embedding is 768 finite numbers, limit
 * 1..1000 and threshold 0..1.
 */
export async function findSimilarDocuments(db: Queryable, input: SimilarDocumentsInput): Promise<SimilarDocument[]> {
  const { embedding, limit, threshold } = parseInput(similarDocumentsInput, input, "findSimilarDocuments");
  const rows = await queryRows(
    db,
    sql`SELECT * FROM find_similar_documents(${pgvector.toSql(embedding)}::vector, ${limit}::integer, ${threshold}::double precision)`,
  );
  return rows.map((r) => ({
    processedDocumentId: str(r.processed_document_id),
    documentId: str(r.document_id),
    courseId: str(r.course_id),
    title: str(r.title),
    similarity: num(r.similarity),
  }));
}

const similarKeywordsInput = z.object({
  embedding: embeddingInput,
  chapterId: uuidInput.nullish(),
  limit: limitInput.default(20),
});
export type SimilarKeywordsInput = z.input<typeof similarKeywordsInput>;

export interface SimilarKeyword {
  keywordId: string;
  chapterId: string;
  courseId: string;
  term: string;
  definition: string | null;
  similarity: number;
}

/**
 * `find_similar_keywords`: the keywords nearest to an embedding, within one chapter when
 * `chapterId` is given, at most `limit` (default 20), most similar first.
 *
 * ```ts
 * const related = await withUserContext(db, userId, (tx) => findSimilarKeywords(tx, { embedding, chapterId }));
 * ```
 */
export async function findSimilarKeywords(db: Queryable, input: SimilarKeywordsInput): Promise<SimilarKeyword[]> {
  const { embedding, chapterId, limit } = parseInput(similarKeywordsInput, input, "findSimilarKeywords");
  const rows = await queryRows(
    db,
    sql`SELECT * FROM find_similar_keywords(${pgvector.toSql(embedding)}::vector, ${chapterId ?? null}::uuid, ${limit}::integer)`,
  );
  return rows.map((r) => ({
    keywordId: str(r.keyword_id),
    chapterId: str(r.chapter_id),
    courseId: str(r.course_id),
    term: str(r.term),
    definition: strOrNull(r.definition),
    similarity: num(r.similarity),
  }));
}
