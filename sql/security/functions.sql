-- Every function of the platform (not the extensions'), applied last so none is missed:
--   search_path = public, pg_temp   names in a function body resolve to the platform's objects
--       and never to a temporary table or view of the calling session (pg_temp is otherwise
--       searched first for tables), whatever the caller's search_path; except the two RLS
--       context functions, which every policy calls on every statement: their bodies name
--       everything schema-qualified instead (context/current_user_id.sql says why);
--   no EXECUTE for PUBLIC           only what grants/grants.sql gives sensa_app and admin_role
--       is callable by them (the rls_* helpers and secure_database are the owner's alone).
-- test/security-database.test.ts checks both from the catalog.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN
		SELECT p.oid::regprocedure FROM pg_proc p
		WHERE p.pronamespace = 'public'::regnamespace
			AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
	LOOP
		IF f NOT IN ('public.app_current_user_id()'::regprocedure, 'public.app_is_admin()'::regprocedure) THEN
			EXECUTE format('ALTER FUNCTION %s SET search_path = public, pg_temp', f);
		END IF;
		EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$$;

-- @down
-- The functions themselves are dropped or restored by the other files' @down sections.
SELECT 1;
