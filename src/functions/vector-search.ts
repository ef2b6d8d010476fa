import { z } from "zod";
import type { Queryable } from "../db/transaction.js";
import { embeddingInput, limitInput, parseInput, similarityInput, uuidInput } from "../db/validation.js";
import {
  findSimilarDocumentsFunction,
  findSimilarKeywordsFunction,
  type SimilarDocument,
  type SimilarKeyword,
} from "./declarations.js";

export type { SimilarDocument, SimilarKeyword };

const similarDocumentsInput = z.object({
  embedding: embeddingInput,
  limit: limitInput.default(10),
  threshold: similarityInput.default(0.7),
});
export type SimilarDocumentsInput = z.input<typeof similarDocumentsInput>;

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
  return findSimilarDocumentsFunction.call(db, [embedding, limit, threshold]);
}

const similarKeywordsInput = z.object({
  embedding: embeddingInput,
  chapterId: uuidInput.nullish(),
  limit: limitInput.default(20),
});
export type SimilarKeywordsInput = z.input<typeof similarKeywordsInput>;

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
  return findSimilarKeywordsFunction.call(db, [embedding, chapterId ?? null, limit]);
}
