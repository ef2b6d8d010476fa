-- Custom migration (hand-written): what every later migration relies on.
-- drizzle-kit emits no CREATE EXTENSION, so the extensions are created here, before any table
-- that uses their types. IF NOT EXISTS: on RDS a platform team may have created them already.
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS vector;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
-- The spec's audit trail: one row per migration applied or rolled back.
CREATE TABLE IF NOT EXISTS public.migrations_log (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	migration_name text NOT NULL,
	checksum text NOT NULL,
	direction text NOT NULL CONSTRAINT migrations_log_direction_check CHECK (direction IN ('up', 'down')),
	applied_via text NOT NULL,
	applied_by text NOT NULL DEFAULT current_user,
	applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	duration_ms integer
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS migrations_log_applied_at_idx ON public.migrations_log (applied_at);
--> statement-breakpoint
-- Drizzle records an applied migration by inserting its hash into drizzle.__drizzle_migrations,
-- inside the same transaction as the migration itself. Logging from a trigger on that insert
-- means every path (sensa-db, migrate(db), npx drizzle-kit migrate) is logged, atomically with
-- the migration. Each migration file ends by naming itself in `sensa.migration_name`.
CREATE OR REPLACE FUNCTION drizzle.log_migration() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	-- Migrations in one batch run back to back in one transaction: each began when the last ended.
	started timestamptz := coalesce(nullif(current_setting('sensa.migration_ended_at', true), '')::timestamptz, now());
	name text := nullif(current_setting('sensa.migration_name', true), '');
BEGIN
	INSERT INTO public.migrations_log (migration_name, checksum, direction, applied_via, duration_ms)
	VALUES (
		coalesce(name, 'unnamed (journal time ' || NEW.created_at || ')'),
		NEW.hash,
		'up',
		coalesce(nullif(current_setting('sensa.applied_via', true), ''), 'drizzle-kit'),
		round(extract(epoch FROM clock_timestamp() - started) * 1000)::integer
	);
	PERFORM set_config('sensa.migration_name', '', true);
	PERFORM set_config('sensa.migration_ended_at', clock_timestamp()::text, true);
	RETURN NEW;
END;
$$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS log_migration ON drizzle.__drizzle_migrations;
--> statement-breakpoint
CREATE TRIGGER log_migration AFTER INSERT ON drizzle.__drizzle_migrations
	FOR EACH ROW EXECUTE FUNCTION drizzle.log_migration();
--> statement-breakpoint
SELECT set_config('sensa.migration_name', '0000_bootstrap', true);
