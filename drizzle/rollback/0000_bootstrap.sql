-- Rollback of drizzle/0000_bootstrap.sql (hand-written, as the migration is). Applied by sensa-db rollback.
-- It removes the audit trail with everything else: rolling back this far means starting over.
DROP TRIGGER IF EXISTS log_migration ON drizzle.__drizzle_migrations;
--> statement-breakpoint
DROP FUNCTION IF EXISTS drizzle.log_migration();
--> statement-breakpoint
DROP TABLE IF EXISTS public.migrations_log;
--> statement-breakpoint
DROP EXTENSION IF EXISTS pg_trgm;
--> statement-breakpoint
DROP EXTENSION IF EXISTS vector;
--> statement-breakpoint
DROP EXTENSION IF EXISTS "uuid-ossp";
