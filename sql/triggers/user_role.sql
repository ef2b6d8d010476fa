-- users.role decides who is a moderator or an admin, so only admin_role (or the owner) may set
-- it. The app may insert its users' rows through Drizzle, which writes `DEFAULT` into every
-- column it was not given, role included: a column grant without `role` would refuse every
-- such insert, so the rule is this trigger instead. A new row's role must be 'user'; an
-- update may not change it.
CREATE OR REPLACE FUNCTION guard_user_role() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
	IF app_is_admin() OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
		RETURN NEW;
	END IF;
	IF (TG_OP = 'INSERT' AND NEW.role IS DISTINCT FROM 'user') OR (TG_OP = 'UPDATE' AND NEW.role IS DISTINCT FROM OLD.role) THEN
		RAISE EXCEPTION 'only admin_role may set users.role (user %)', NEW.id USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS guard_role ON users;
CREATE TRIGGER guard_role BEFORE INSERT OR UPDATE OF role ON users
	FOR EACH ROW EXECUTE FUNCTION guard_user_role();

-- @down
DROP FUNCTION IF EXISTS guard_user_role() CASCADE;
