-- The keywords most similar to an embedding, optionally within one chapter, among those the
-- current user may see. As in the spec, positionally: find_similar_keywords(embedding, chapter, 20);
-- a NULL chapter searches all the user's keywords.
--
-- Input parameters of all the functions are named p_* because RETURNS TABLE columns share
-- their namespace (an input `chapter_id` beside an output `chapter_id` is an error) and a bare
-- name inside the body would be ambiguous with the column.
-- As in find_similar_documents: iterative HNSW scans under RLS, and no full-table scan.
--
-- Two branches, of which only the one the chapter argument selects runs (each is gated by a
-- one-time filter on p_chapter_id). With one query for both, `p_chapter_id IS NULL OR chapter_id
-- = p_chapter_id` could not use the chapter's index, so a chapter filter ran as a filter on the
-- HNSW scan: for a role that sees every keyword (admin_role) a chapter with fewer than
-- `result_limit` keywords (every real chapter) kept the scan walking to pgvector's scan budget,
-- ~1 s at 10k keywords against ~10 ms without a chapter. A chapter's keywords are few: they are
-- read through (chapter_id, term) and sorted exactly.
DROP FUNCTION IF EXISTS find_similar_keywords(vector, uuid, integer);
CREATE FUNCTION find_similar_keywords(
	query_embedding vector(768),
	p_chapter_id uuid DEFAULT NULL,
	result_limit integer DEFAULT 20
)
RETURNS TABLE (
	keyword_id uuid,
	chapter_id uuid,
	course_id uuid,
	term text,
	definition text,
	similarity double precision
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
SET hnsw.iterative_scan = 'relaxed_order'
SET enable_seqscan = off
SET hnsw.ef_search = 100
AS $$
	SELECT id, chapter_id, course_id, term, definition, 1 - distance
	FROM (
		(
			SELECT k.id, k.chapter_id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
			FROM keywords k
			WHERE p_chapter_id IS NULL AND k.embedding IS NOT NULL
			ORDER BY k.embedding <=> query_embedding
			LIMIT result_limit
		)
		UNION ALL
		(
			SELECT k.id, k.chapter_id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
			FROM keywords k
			WHERE k.chapter_id = p_chapter_id AND k.embedding IS NOT NULL
			ORDER BY k.embedding <=> query_embedding
			LIMIT result_limit
		)
	) nearest
	ORDER BY distance, id
$$;

-- @down
DROP FUNCTION IF EXISTS find_similar_keywords(vector, uuid, integer);
