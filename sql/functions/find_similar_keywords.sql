-- The keywords most similar to an embedding, optionally within one chapter, among those the
-- current user may see. As in the spec, positionally: find_similar_keywords(embedding, chapter, 20);
-- a NULL chapter searches all the user's keywords.
--
-- Input parameters of all the functions are named p_* because RETURNS TABLE columns share
-- their namespace (an input `chapter_id` beside an output `chapter_id` is an error) and a bare
-- name inside the body would be ambiguous with the column.
-- As in find_similar_documents: iterative HNSW scans under RLS, and no full-table scan.
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
		SELECT k.id, k.chapter_id, k.course_id, k.term, k.definition, k.embedding <=> query_embedding AS distance
		FROM keywords k
		WHERE k.embedding IS NOT NULL
			AND (p_chapter_id IS NULL OR k.chapter_id = p_chapter_id)
		ORDER BY k.embedding <=> query_embedding
		LIMIT result_limit
	) nearest
	ORDER BY distance, id
$$;

-- @down
DROP FUNCTION IF EXISTS find_similar_keywords(vector, uuid, integer);
