-- The document processing pipeline as a state machine. Workers only move the status; the
-- timestamps follow from it here, and a move the pipeline never makes is an error, not data.
--
--   pending    -> processing | failed          (failed: rejected before a worker took it)
--   processing -> completed | failed | pending (pending: a worker died and the job is requeued)
--   failed     -> pending | processing         (a retry)
--   completed  -> pending                      (reprocess, e.g. with a new embedding model)
CREATE OR REPLACE FUNCTION track_processing_status() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.processing_status = OLD.processing_status THEN
		RETURN NEW;
	END IF;
	IF TG_OP = 'UPDATE' AND NOT (
		(OLD.processing_status = 'pending' AND NEW.processing_status IN ('processing', 'failed'))
		OR (OLD.processing_status = 'processing' AND NEW.processing_status IN ('completed', 'failed', 'pending'))
		OR (OLD.processing_status = 'failed' AND NEW.processing_status IN ('pending', 'processing'))
		OR (OLD.processing_status = 'completed' AND NEW.processing_status = 'pending')
	) THEN
		RAISE EXCEPTION 'illegal processing status transition for document %: % -> %', OLD.id, OLD.processing_status, NEW.processing_status
			USING ERRCODE = 'check_violation';
	END IF;
	CASE NEW.processing_status
		WHEN 'pending' THEN
			NEW.processing_started_at := NULL;
			NEW.processing_completed_at := NULL;
			NEW.processing_error := NULL;
		WHEN 'processing' THEN
			NEW.processing_started_at := now();
			NEW.processing_completed_at := NULL;
			NEW.processing_error := NULL;
		WHEN 'completed' THEN
			NEW.processing_completed_at := now();
			NEW.processing_error := NULL;
		WHEN 'failed' THEN
			NEW.processing_completed_at := now();
			NEW.processing_error := coalesce(NEW.processing_error, 'failed without an error message');
	END CASE;
	RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS track_processing_status ON course_documents;
CREATE TRIGGER track_processing_status BEFORE INSERT OR UPDATE OF processing_status ON course_documents
	FOR EACH ROW EXECUTE FUNCTION track_processing_status();

-- @down
DROP FUNCTION IF EXISTS track_processing_status() CASCADE;
