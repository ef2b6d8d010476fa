-- A course's keywords matching a query, best first, typo-tolerant ("mitocondria" finds
-- "mitochondria"): trigram word similarity, narrowed by the course_id index (under row-level
-- security <% cannot be an index condition; see search_courses.sql).
DROP FUNCTION IF EXISTS search_keywords(uuid, text, integer);
CREATE FUNCTION search_keywords(
	p_course_id uuid,
	query text,
	result_limit integer DEFAULT 50
)
RETURNS TABLE (
	keyword_id uuid,
	chapter_id uuid,
	term text,
	definition text,
	similarity real
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
SET pg_trgm.word_similarity_threshold = 0.4
AS $$
	SELECT k.id, k.chapter_id, k.term, k.definition, word_similarity(query, k.term) AS similarity
	FROM keywords k
	WHERE k.course_id = p_course_id
		AND query <% k.term
	ORDER BY similarity DESC, k.term, k.id
	LIMIT result_limit
$$;

-- @down
DROP FUNCTION IF EXISTS search_keywords(uuid, text, integer);
