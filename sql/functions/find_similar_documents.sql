-- The documents most similar to an embedding, among those the current user may see (SECURITY
-- INVOKER: row-level security applies inside). Similarity is 1 - cosine distance, so
-- min_similarity 0.7 means "at least 0.7 similar". Positional calls work as in the spec:
--   SELECT * FROM find_similar_documents(embedding, 10, 0.7);
-- (the spec's `limit =>` cannot be a parameter name: LIMIT is reserved).
--
-- The threshold applies to the `result_limit` nearest rows, outside the index-ordered LIMIT. Inside
-- it, a query with fewer than `result_limit` documents above the threshold (a "miss") kept the
-- HNSW scan walking until pgvector's scan budget ran out: as admin_role at 100k documents a miss
-- took ~350 ms against ~12 ms for a hit. Distance is monotone, so "the nearest `result_limit`
-- rows, then those above the threshold" is the same set as before, up to what HNSW approximates:
-- the old scan could still find, past its first ef_search candidates, a row above the threshold
-- that those candidates missed (test/vector-threshold.test.ts states the equivalence exactly).
--
-- hnsw.iterative_scan lets the HNSW index keep scanning when row-level security filters out the
-- first candidates, so a user among many still gets `result_limit` rows (pgvector >= 0.8).
-- Relaxed order is cheaper; the outer ORDER BY restores exact order.
-- enable_seqscan = off: at 10k rows the planner costed a full scan-and-sort (30-40 ms) below the
-- HNSW index (~2 ms; bench/). Other indexes (a user's rows) stay available.
-- hnsw.ef_search = 64 (pgvector's default is 40): with the index built at m 24, ef_construction
-- 128 (migration 0005) recall@10 at 300k documents measured 0.992 at 40 and 0.9965 at 64, 100 and
-- 160, so a wider search costs time for nothing; at m 16 / 64 it had stopped at 0.9865 however wide
-- (bench/results/latest.json: scale_curve).
DROP FUNCTION IF EXISTS find_similar_documents(vector, integer, double precision);
CREATE FUNCTION find_similar_documents(
	query_embedding vector(768),
	result_limit integer DEFAULT 10,
	min_similarity double precision DEFAULT 0.7
)
RETURNS TABLE (
	processed_document_id uuid,
	document_id uuid,
	course_id uuid,
	title text,
	similarity double precision
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
SET hnsw.iterative_scan = 'relaxed_order'
SET enable_seqscan = off
SET hnsw.ef_search = 64
AS $$
	SELECT id, document_id, course_id, title, 1 - distance
	FROM (
		SELECT p.id, p.document_id, p.course_id, p.title, p.embedding <=> query_embedding AS distance
		FROM processed_documents p
		WHERE p.embedding IS NOT NULL
		ORDER BY p.embedding <=> query_embedding
		LIMIT result_limit
	) nearest
	WHERE distance <= 1 - min_similarity
	ORDER BY distance, id
$$;

-- @down
DROP FUNCTION IF EXISTS find_similar_documents(vector, integer, double precision);
