-- The RLS context: which platform user the current transaction or session acts for.
-- current_setting(..., true) reads '' (not NULL) once a transaction-local setting has ended,
-- and ''::uuid throws, hence nullif: "no context" must mean "no rows", never an error.
CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.current_user_id', true), '')::uuid $$;

-- True only while acting *as* admin_role (SET ROLE admin_role), not for roles that merely
-- inherit it: the owner is a member of admin_role, yet must see only the current user's rows
-- until it switches role, as in the spec's Python example.
CREATE OR REPLACE FUNCTION app_is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT current_user = 'admin_role' $$;

-- The spec's session-level setter, for psql and the Python example. The TypeScript wrappers use
-- the transaction-local form instead (set_config(..., true)) so pooled connections never leak it.
CREATE OR REPLACE FUNCTION set_current_user_id(user_id uuid) RETURNS void
LANGUAGE sql VOLATILE
AS $$ SELECT set_config('app.current_user_id', coalesce(user_id::text, ''), false) $$;

-- @down
DROP FUNCTION IF EXISTS set_current_user_id(uuid);
DROP FUNCTION IF EXISTS app_is_admin();
DROP FUNCTION IF EXISTS app_current_user_id();
