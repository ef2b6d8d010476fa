-- The database roles the platform acts as.
--   sensa_app   what app services act as (they log in as a role granted sensa_app, or as it).
--               No BYPASSRLS: every row it touches passes a policy.
--   admin_role  sees and changes everything. Its power comes from the admin policies and
--               grants below, not from BYPASSRLS, so a non-superuser owner (RDS's master user)
--               can install it.
-- Roles belong to the whole cluster, not to one database: they are created when missing and
-- never dropped by a rollback, since other databases of the cluster may use them.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app') THEN
		CREATE ROLE sensa_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'admin_role') THEN
		CREATE ROLE admin_role NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
	END IF;
END
$$;

-- The migrating owner may `SET ROLE` to either, as the spec's psql and Python examples do.
-- Where the roles were made by another owner (PostgreSQL 16+ then needs their ADMIN OPTION),
-- this is left to a DBA rather than failing the migration.
DO $$
BEGIN
	EXECUTE format('GRANT sensa_app, admin_role TO %I', current_user);
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
	RAISE NOTICE 'could not grant sensa_app and admin_role to %: ask a DBA to', current_user;
END
$$;

-- @down
-- Roles stay (see above); what this database granted them goes with the grants file.
SELECT 1;
