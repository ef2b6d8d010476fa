-- One row of counts for a course the current user may see; no row when they may not.
-- Each count is its own subquery over an indexed course_id, which beats one wide join whose
-- fan-out would multiply rows before counting.
DROP FUNCTION IF EXISTS get_course_stats(uuid);
CREATE FUNCTION get_course_stats(p_course_id uuid)
RETURNS TABLE (
	course_id uuid,
	title text,
	document_count bigint,
	completed_document_count bigint,
	failed_document_count bigint,
	chapter_count bigint,
	keyword_count bigint,
	relationship_count bigint,
	learner_count bigint,
	average_completion numeric,
	total_time_spent_seconds bigint
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
AS $$
	SELECT c.id, c.title,
		(SELECT count(*) FROM course_documents d WHERE d.course_id = c.id),
		(SELECT count(*) FROM course_documents d WHERE d.course_id = c.id AND d.processing_status = 'completed'),
		(SELECT count(*) FROM course_documents d WHERE d.course_id = c.id AND d.processing_status = 'failed'),
		(SELECT count(*) FROM chapters ch WHERE ch.course_id = c.id),
		(SELECT count(*) FROM keywords k WHERE k.course_id = c.id),
		(SELECT count(*) FROM relationships r JOIN keywords k ON k.id = r.source_keyword_id WHERE k.course_id = c.id),
		(SELECT count(DISTINCT p.user_id) FROM user_progress p WHERE p.course_id = c.id),
		(SELECT round(coalesce(avg(p.completion_percentage), 0), 2) FROM user_progress p WHERE p.course_id = c.id),
		(SELECT coalesce(sum(p.time_spent_seconds), 0)::bigint FROM user_progress p WHERE p.course_id = c.id)
	FROM courses c
	WHERE c.id = p_course_id
$$;

-- @down
DROP FUNCTION IF EXISTS get_course_stats(uuid);
