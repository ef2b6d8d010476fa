-- The RLS context: which platform user the current transaction or session acts for.
-- current_setting(..., true) reads '' (not NULL) once a transaction-local setting has ended,
-- and ''::uuid throws, hence the test for '': "no context" must mean "no rows", never an error.
--
-- Every policy calls this once per statement (an InitPlan), so what it costs, row-level security
-- costs on every statement. PL/pgSQL, not SQL: a LANGUAGE sql body was parsed and planned again on
-- every statement (+16-18 µs per statement against the explicit filter, measured server-side);
-- PL/pgSQL keeps its expressions' plans for the session. And no SET search_path, unlike every
-- other function (security/functions.sql pins theirs): calling a function with a SET clause saves,
-- sets and restores the setting around each call, and changing search_path makes the statement's
-- next name lookup rebuild it; on bench/rls.ts's three statements that was 2-14 µs of the 6-20 µs
-- RLS cost server-side (the pairs' blocks, PostgreSQL 15, 100k documents). What the pinned
-- search_path guarded, a caller's search_path resolving a name in the body to something else,
-- cannot happen here: every name is schema-qualified, the comparison included (OPERATOR(...): a
-- bare = or NULLIF would resolve through search_path). test/rls-cost.test.ts calls these under a
-- search_path that shadows each name.
CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
	id pg_catalog.text := pg_catalog.current_setting('app.current_user_id', true);
BEGIN
	IF id OPERATOR(pg_catalog.=) '' THEN
		RETURN NULL;
	END IF;
	RETURN id::pg_catalog.uuid;
END
$$;

-- True only while acting *as* admin_role (SET ROLE admin_role), not for roles that merely
-- inherit it: the owner is a member of admin_role, yet must see only the current user's rows
-- until it switches role, as in the spec's Python example.
-- PL/pgSQL and schema-qualified for the same reasons as app_current_user_id.
CREATE OR REPLACE FUNCTION app_is_admin() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$ BEGIN RETURN current_user OPERATOR(pg_catalog.=) 'admin_role'::pg_catalog.name; END $$;

-- The spec's session-level setter, for psql and the Python example. The TypeScript wrappers use
-- the transaction-local form instead (set_config(..., true)) so pooled connections never leak it.
CREATE OR REPLACE FUNCTION set_current_user_id(user_id uuid) RETURNS void
LANGUAGE sql VOLATILE
AS $$ SELECT set_config('app.current_user_id', coalesce(user_id::text, ''), false) $$;

-- @down
DROP FUNCTION IF EXISTS set_current_user_id(uuid);
DROP FUNCTION IF EXISTS app_is_admin();
DROP FUNCTION IF EXISTS app_current_user_id();
