-- Rollback of drizzle/0000_bootstrap.sql (hand-written, as the migration is). Applied by sensa-db rollback.
-- It removes the audit trail with everything else: rolling back this far means starting over.
DROP TRIGGER IF EXISTS log_migration ON drizzle.__drizzle_migrations;
--> statement-breakpoint
DROP FUNCTION IF EXISTS drizzle.log_migration();
--> statement-breakpoint
DROP TABLE IF EXISTS public.migrations_log;
--> statement-breakpoint
-- Only the extensions this migration created (owned by the migrating user) are dropped: where
-- a platform team or superuser created them first (as on RDS), they were there before and stay.
DO $$
DECLARE
	ext name;
BEGIN
	FOR ext IN
		SELECT extname FROM pg_extension
		WHERE extname IN ('pg_trgm', 'vector', 'uuid-ossp') AND extowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
	LOOP
		EXECUTE format('DROP EXTENSION %I', ext);
	END LOOP;
END
$$;
