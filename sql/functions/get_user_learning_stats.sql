-- A learner's totals across every course: what they own, how far they are, how long they spent.
-- No row when the user is not visible to the current user.
DROP FUNCTION IF EXISTS get_user_learning_stats(uuid);
CREATE FUNCTION get_user_learning_stats(p_user_id uuid)
RETURNS TABLE (
	user_id uuid,
	course_count bigint,
	document_count bigint,
	courses_in_progress bigint,
	chapters_started bigint,
	chapters_completed bigint,
	average_completion numeric,
	total_time_spent_seconds bigint,
	annotation_count bigint,
	last_accessed_at timestamptz
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
AS $$
	SELECT u.id,
		(SELECT count(*) FROM courses c WHERE c.user_id = u.id),
		(SELECT count(*) FROM course_documents d WHERE d.user_id = u.id),
		p.courses_in_progress,
		p.chapters_started,
		p.chapters_completed,
		p.average_completion,
		p.total_time_spent_seconds,
		(SELECT count(*) FROM user_annotations a WHERE a.user_id = u.id),
		p.last_accessed_at
	FROM users u
	CROSS JOIN LATERAL (
		SELECT count(DISTINCT up.course_id) AS courses_in_progress,
			count(*) AS chapters_started,
			count(*) FILTER (WHERE up.completion_percentage >= 100) AS chapters_completed,
			round(coalesce(avg(up.completion_percentage), 0), 2) AS average_completion,
			coalesce(sum(up.time_spent_seconds), 0)::bigint AS total_time_spent_seconds,
			max(up.last_accessed_at) AS last_accessed_at
		FROM user_progress up WHERE up.user_id = u.id
	) p
	WHERE u.id = p_user_id
$$;

-- @down
DROP FUNCTION IF EXISTS get_user_learning_stats(uuid);
