-- Sign-in: the platform user for a Cognito `sub`, created on first sign-in. The app knows the
-- sub (it verified the token) but not yet the user id, and row-level security shows no user row
-- without one, so this one narrow function runs with admin_role's rights (SECURITY DEFINER,
-- owned by admin_role, search_path pinned). It returns only the row of the sub it was given, and
-- tells nothing about other users except what sign-up must: an email already registered under
-- another sub is a unique violation on users_email_unique. EXECUTE: sensa_app only (grants.sql).
CREATE OR REPLACE FUNCTION find_or_create_user(
	p_cognito_sub text,
	p_email text,
	p_display_name text DEFAULT NULL
)
RETURNS users
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
	account users;
BEGIN
	IF coalesce(btrim(p_cognito_sub), '') = '' OR coalesce(btrim(p_email), '') = '' THEN
		RAISE EXCEPTION 'find_or_create_user needs a cognito_sub and an email' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT * INTO account FROM users WHERE cognito_sub = p_cognito_sub;
	IF FOUND THEN
		RETURN account;
	END IF;
	INSERT INTO users (cognito_sub, email, display_name) VALUES (p_cognito_sub, p_email, p_display_name)
		ON CONFLICT (cognito_sub) DO NOTHING
		RETURNING * INTO account;
	IF account.id IS NULL THEN -- a concurrent first sign-in with the same sub inserted it first
		SELECT * INTO account FROM users WHERE cognito_sub = p_cognito_sub;
	END IF;
	RETURN account;
END;
$$;

-- Owned by admin_role, whose policies see every user row: the owner is filtered by row-level
-- security like everyone (FORCE), and a SECURITY DEFINER function cannot SET ROLE. Changing the
-- owner needs the new owner to hold CREATE on the schema, for the moment of the change only.
DO $$
BEGIN
	IF (SELECT proowner FROM pg_proc WHERE oid = 'find_or_create_user(text, text, text)'::regprocedure) <> 'admin_role'::regrole THEN
		GRANT CREATE ON SCHEMA public TO admin_role;
		ALTER FUNCTION find_or_create_user(text, text, text) OWNER TO admin_role;
		REVOKE CREATE ON SCHEMA public FROM admin_role;
	END IF;
END
$$;

-- @down
DROP FUNCTION IF EXISTS find_or_create_user(text, text, text);
