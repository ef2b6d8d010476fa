-- completed_at records when a learner first reached 100%; dropping below 100 (a chapter was
-- reset) clears it. last_accessed_at moves with every change of progress.
CREATE OR REPLACE FUNCTION track_progress_completion() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.completion_percentage >= 100 THEN
		NEW.completed_at := coalesce(CASE WHEN TG_OP = 'UPDATE' THEN OLD.completed_at END, now());
	ELSE
		NEW.completed_at := NULL;
	END IF;
	IF TG_OP = 'UPDATE' THEN
		NEW.last_accessed_at := now();
	END IF;
	RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS track_completion ON user_progress;
CREATE TRIGGER track_completion BEFORE INSERT OR UPDATE ON user_progress
	FOR EACH ROW EXECUTE FUNCTION track_progress_completion();

-- @down
DROP FUNCTION IF EXISTS track_progress_completion() CASCADE;
