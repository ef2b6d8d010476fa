-- The RLS context: which platform user the current transaction or session acts for.
-- current_setting(..., true) reads '' (not NULL) once a transaction-local setting has ended,
-- and ''::uuid throws, hence nullif: "no context" must mean "no rows", never an error.
--
-- PL/pgSQL, not SQL: every policy calls this once per statement (an InitPlan), and what that
-- costs is the whole of what row-level security costs (the plans with and without RLS are the
-- same). security/functions.sql pins every function's search_path, and a function with a SET
-- clause is never inlined, so a LANGUAGE sql body was parsed and planned again on every
-- statement (+16-18 µs per statement against the explicit filter, measured server-side), a
-- SQL-standard body (RETURN ..., stored pre-parsed) still planned (+15 µs); PL/pgSQL keeps its
-- expression's plan for the session (+8 µs; writing the expression into the policies instead,
-- without a function, +6-7 µs). bench/overhead.ts measures it per release.
CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$ BEGIN RETURN nullif(current_setting('app.current_user_id', true), '')::uuid; END $$;

-- True only while acting *as* admin_role (SET ROLE admin_role), not for roles that merely
-- inherit it: the owner is a member of admin_role, yet must see only the current user's rows
-- until it switches role, as in the spec's Python example.
-- PL/pgSQL for the same reason as app_current_user_id.
CREATE OR REPLACE FUNCTION app_is_admin() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$ BEGIN RETURN current_user = 'admin_role'; END $$;

-- The spec's session-level setter, for psql and the Python example. The TypeScript wrappers use
-- the transaction-local form instead (set_config(..., true)) so pooled connections never leak it.
CREATE OR REPLACE FUNCTION set_current_user_id(user_id uuid) RETURNS void
LANGUAGE sql VOLATILE
AS $$ SELECT set_config('app.current_user_id', coalesce(user_id::text, ''), false) $$;

-- @down
DROP FUNCTION IF EXISTS set_current_user_id(uuid);
DROP FUNCTION IF EXISTS app_is_admin();
DROP FUNCTION IF EXISTS app_current_user_id();
