-- updated_at is the database's to keep: any UPDATE stamps it, whatever the client sent.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;

-- Every table of the public schema with an updated_at column gets the trigger, so a new table
-- cannot be forgotten (test/triggers.test.ts checks the same list from the catalog).
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN
		SELECT c.attrelid::regclass FROM pg_attribute c
		JOIN pg_class r ON r.oid = c.attrelid AND r.relkind = 'r'
		WHERE c.attname = 'updated_at' AND NOT c.attisdropped
			AND r.relnamespace = 'public'::regnamespace
	LOOP
		EXECUTE format('DROP TRIGGER IF EXISTS set_updated_at ON %s', t);
		EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION set_updated_at()', t);
	END LOOP;
END
$$;

-- @down
DROP FUNCTION IF EXISTS set_updated_at() CASCADE;
