-- The policy set shared by every table whose rows belong to one user through an owner column.
-- One definition, applied per table by the files beside this one, so the tables cannot drift
-- apart. For each table it:
--   ENABLEs and FORCEs row-level security (FORCE: the table owner, i.e. the migrating user, is
--     filtered too, as the spec's Python example expects);
--   lets the current user SELECT, INSERT, UPDATE and DELETE their own rows, with USING and
--     WITH CHECK so a row can be neither read, created, moved to nor left with another owner;
--   lets admin_role do everything.
-- `(SELECT app_current_user_id())` is evaluated once per statement (an InitPlan), not per row.
CREATE OR REPLACE FUNCTION rls_owner_policies(tbl regclass, owner_column name) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	name text := (SELECT relname FROM pg_class WHERE oid = tbl);
	own text := format('%I = (SELECT app_current_user_id())', owner_column);
BEGIN
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
	EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
	PERFORM rls_drop_policies(tbl);
	EXECUTE format('CREATE POLICY %I ON %s FOR SELECT USING (%s)', name || '_select_own', tbl, own);
	EXECUTE format('CREATE POLICY %I ON %s FOR INSERT WITH CHECK (%s)', name || '_insert_own', tbl, own);
	EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', name || '_update_own', tbl, own, own);
	EXECUTE format('CREATE POLICY %I ON %s FOR DELETE USING (%s)', name || '_delete_own', tbl, own);
	EXECUTE format('CREATE POLICY %I ON %s TO admin_role USING ((SELECT app_is_admin())) WITH CHECK ((SELECT app_is_admin()))', name || '_admin_all', tbl);
END;
$$;

-- Drops every policy of a table, so re-running a policy file never leaves a stale one behind.
CREATE OR REPLACE FUNCTION rls_drop_policies(tbl regclass) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
	p name;
BEGIN
	FOR p IN SELECT polname FROM pg_policy WHERE polrelid = tbl LOOP
		EXECUTE format('DROP POLICY %I ON %s', p, tbl);
	END LOOP;
END;
$$;

-- Undoes rls_owner_policies (and any extra policy): for rollbacks.
CREATE OR REPLACE FUNCTION rls_remove(tbl regclass) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM rls_drop_policies(tbl);
	EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', tbl);
	EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
END;
$$;

-- @down
DROP FUNCTION IF EXISTS rls_remove(regclass);
DROP FUNCTION IF EXISTS rls_drop_policies(regclass);
DROP FUNCTION IF EXISTS rls_owner_policies(regclass, name);
