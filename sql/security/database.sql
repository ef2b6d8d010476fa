-- What a login may do with this database at all, before any table privilege or policy:
--   CONNECT   roles are shared by every database of a cluster, so PUBLIC's default CONNECT lets
--             one database's app login (or owner, a member of admin_role) into every other
--             database of the cluster that uses this package. Only the owner (implicitly) and
--             the logins `sensa-db app-login` makes for this database may connect.
--   TEMPORARY a temporary table or view is found before `public` in the default search_path
--             and outlives the transaction on a pooled connection, so a request could leave one
--             named like a platform table for the next user of that connection to write into.
-- Database privileges are not copied by CREATE DATABASE … TEMPLATE nor by pg_dump, so migrate()
-- calls secure_database() after every run, not only when this migration is applied.
CREATE OR REPLACE FUNCTION secure_database() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
	EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
	-- PostgreSQL 15 made this the default; databases upgraded from older versions kept CREATE.
	REVOKE CREATE ON SCHEMA public FROM PUBLIC;
	-- Functions the owner creates later are not callable by everyone until a migration says so.
	ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
	-- REVOKE by a role that does not own the database only warns: make it an error instead.
	IF EXISTS (
		SELECT FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
		WHERE d.datname = current_database() AND a.grantee = 0 AND a.privilege_type IN ('CONNECT', 'TEMPORARY')
	) THEN
		RAISE EXCEPTION 'could not revoke CONNECT and TEMPORARY on database % from PUBLIC: run the migrations as the role that owns the database', current_database()
			USING ERRCODE = 'insufficient_privilege';
	END IF;
END;
$$;

SELECT secure_database();

-- @down
DO $$
BEGIN
	EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
DROP FUNCTION IF EXISTS secure_database();
