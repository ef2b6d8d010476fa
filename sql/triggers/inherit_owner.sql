-- Child rows carry their owner (user_id) and course (course_id) copied from their parent, so a
-- policy filters one indexed column instead of joining up the document chain. These BEFORE
-- triggers overwrite whatever the client sent, on INSERT and on every UPDATE, so the copies can
-- never disagree with the chain.
--
-- They read the parent as the current user (SECURITY INVOKER): a parent that row-level security
-- hides is reported as missing, so nobody can attach rows to another user's document.

CREATE OR REPLACE FUNCTION raise_parent_not_visible(child text, parent text, parent_id uuid) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	RAISE EXCEPTION '% references % %, which does not exist or is not visible to the current user', child, parent, parent_id
		USING ERRCODE = 'foreign_key_violation';
END;
$$;

CREATE OR REPLACE FUNCTION inherit_owner_course_documents() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	SELECT c.user_id INTO NEW.user_id FROM courses c WHERE c.id = NEW.course_id;
	IF NOT FOUND THEN PERFORM raise_parent_not_visible('course_documents', 'course', NEW.course_id); END IF;
	RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION inherit_owner_processed_documents() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	SELECT d.user_id, d.course_id INTO NEW.user_id, NEW.course_id FROM course_documents d WHERE d.id = NEW.document_id;
	IF NOT FOUND THEN PERFORM raise_parent_not_visible('processed_documents', 'course document', NEW.document_id); END IF;
	RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION inherit_owner_chapters() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	SELECT p.user_id, p.course_id INTO NEW.user_id, NEW.course_id FROM processed_documents p WHERE p.id = NEW.processed_document_id;
	IF NOT FOUND THEN PERFORM raise_parent_not_visible('chapters', 'processed document', NEW.processed_document_id); END IF;
	RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION inherit_owner_keywords() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	SELECT c.user_id, c.course_id INTO NEW.user_id, NEW.course_id FROM chapters c WHERE c.id = NEW.chapter_id;
	IF NOT FOUND THEN PERFORM raise_parent_not_visible('keywords', 'chapter', NEW.chapter_id); END IF;
	RETURN NEW;
END;
$$;

-- Both ends of a relationship must be keywords of the same owner.
CREATE OR REPLACE FUNCTION inherit_owner_relationships() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
	target_owner uuid;
BEGIN
	SELECT k.user_id INTO NEW.user_id FROM keywords k WHERE k.id = NEW.source_keyword_id;
	IF NOT FOUND THEN PERFORM raise_parent_not_visible('relationships', 'source keyword', NEW.source_keyword_id); END IF;
	SELECT k.user_id INTO target_owner FROM keywords k WHERE k.id = NEW.target_keyword_id;
	IF NOT FOUND OR target_owner IS DISTINCT FROM NEW.user_id THEN
		PERFORM raise_parent_not_visible('relationships', 'target keyword', NEW.target_keyword_id);
	END IF;
	RETURN NEW;
END;
$$;

-- Progress belongs to the learner (user_id is theirs, not inherited); only the course is copied.
CREATE OR REPLACE FUNCTION inherit_owner_user_progress() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	SELECT c.course_id INTO NEW.course_id FROM chapters c WHERE c.id = NEW.chapter_id;
	IF NOT FOUND THEN PERFORM raise_parent_not_visible('user_progress', 'chapter', NEW.chapter_id); END IF;
	RETURN NEW;
END;
$$;

-- Feedback may only point at documents and chapters its author can see.
CREATE OR REPLACE FUNCTION inherit_owner_user_annotations() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.processed_document_id IS NOT NULL
		AND NOT EXISTS (SELECT FROM processed_documents p WHERE p.id = NEW.processed_document_id) THEN
		PERFORM raise_parent_not_visible('user_annotations', 'processed document', NEW.processed_document_id);
	END IF;
	IF NEW.chapter_id IS NOT NULL AND NOT EXISTS (SELECT FROM chapters c WHERE c.id = NEW.chapter_id) THEN
		PERFORM raise_parent_not_visible('user_annotations', 'chapter', NEW.chapter_id);
	END IF;
	RETURN NEW;
END;
$$;

-- A course's owner is fixed: its children copied it, and moving it would strand them.
CREATE OR REPLACE FUNCTION prevent_course_owner_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
		RAISE EXCEPTION 'a course cannot change owner (course %)', OLD.id USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['course_documents', 'processed_documents', 'chapters', 'keywords', 'relationships', 'user_progress', 'user_annotations']
	LOOP
		EXECUTE format('DROP TRIGGER IF EXISTS inherit_owner ON %I', t);
		EXECUTE format('CREATE TRIGGER inherit_owner BEFORE INSERT OR UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION %I()', t, 'inherit_owner_' || t);
	END LOOP;
END
$$;
DROP TRIGGER IF EXISTS prevent_owner_change ON courses;
CREATE TRIGGER prevent_owner_change BEFORE UPDATE OF user_id ON courses
	FOR EACH ROW EXECUTE FUNCTION prevent_course_owner_change();

-- @down
DROP FUNCTION IF EXISTS prevent_course_owner_change() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_user_annotations() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_user_progress() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_relationships() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_keywords() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_chapters() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_processed_documents() CASCADE;
DROP FUNCTION IF EXISTS inherit_owner_course_documents() CASCADE;
DROP FUNCTION IF EXISTS raise_parent_not_visible(text, text, uuid);
