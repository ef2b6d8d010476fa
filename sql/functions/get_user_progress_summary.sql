-- A learner's progress through one course. completion_percentage averages over *all* the
-- course's chapters, counting chapters never opened as 0%, so it reads as "how much of the
-- course is done". No row when the user or course is not visible.
DROP FUNCTION IF EXISTS get_user_progress_summary(uuid, uuid);
CREATE FUNCTION get_user_progress_summary(p_user_id uuid, p_course_id uuid)
RETURNS TABLE (
	user_id uuid,
	course_id uuid,
	total_chapters bigint,
	chapters_started bigint,
	chapters_completed bigint,
	completion_percentage numeric,
	total_time_spent_seconds bigint,
	last_accessed_at timestamptz
)
LANGUAGE sql STABLE SECURITY INVOKER PARALLEL SAFE
AS $$
	WITH chapter_progress AS (
		SELECT ch.id, p.completion_percentage, p.time_spent_seconds, p.last_accessed_at
		FROM chapters ch
		LEFT JOIN user_progress p ON p.chapter_id = ch.id AND p.user_id = p_user_id
		WHERE ch.course_id = p_course_id
	)
	SELECT u.id, c.id,
		count(cp.id),
		count(cp.completion_percentage),
		count(*) FILTER (WHERE cp.completion_percentage >= 100),
		round(coalesce(avg(coalesce(cp.completion_percentage, 0)), 0), 2),
		coalesce(sum(cp.time_spent_seconds), 0)::bigint,
		max(cp.last_accessed_at)
	FROM users u
	JOIN courses c ON c.id = p_course_id
	LEFT JOIN chapter_progress cp ON true
	WHERE u.id = p_user_id
	GROUP BY u.id, c.id
$$;

-- @down
DROP FUNCTION IF EXISTS get_user_progress_summary(uuid, uuid);
