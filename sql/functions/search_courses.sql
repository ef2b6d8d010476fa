-- A user's courses whose title (or description) matches a query, best first, typo-tolerant:
-- ranked by pg_trgm word similarity, so "biolgy" finds "Introduction to Biology".
-- The <% threshold is lowered from pg_trgm's 0.6 so a one-letter typo in a short word still
-- matches. Under row-level security PostgreSQL cannot use <% (not LEAKPROOF) as an index
-- condition, so a user's search is narrowed by the user_id index; the GIN trigram indexes
-- serve roles no policy filters.
DROP FUNCTION IF EXISTS search_courses(uuid, text, integer);
CREATE FUNCTION search_courses(
	p_user_id uuid,
	query text,
	result_limit integer DEFAULT 20
)
RETURNS TABLE (
	course_id uuid,
	title text,
	description text,
	similarity real
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
SET pg_trgm.word_similarity_threshold = 0.4
AS $$
	SELECT c.id, c.title, c.description,
		greatest(word_similarity(query, c.title), word_similarity(query, coalesce(c.description, '')) * 0.8) AS similarity
	FROM courses c
	WHERE c.user_id = p_user_id
		AND (query <% c.title OR query <% c.description)
	ORDER BY similarity DESC, c.title, c.id
	LIMIT result_limit
$$;

-- @down
DROP FUNCTION IF EXISTS search_courses(uuid, text, integer);
