-- What each role may do at all; row-level security then decides which rows.
GRANT USAGE ON SCHEMA public TO sensa_app, admin_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON
	user_profiles, courses, course_documents, processed_documents, chapters, keywords,
	relationships, user_annotations, user_progress
	TO sensa_app, admin_role;

-- users: the app may create an account row and edit its contact details, but never write
-- `role` (so no user can make themselves a moderator or admin); admin_role may.
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO admin_role;
GRANT SELECT, DELETE ON users TO sensa_app;
GRANT INSERT (id, cognito_sub, email, display_name) ON users TO sensa_app;
GRANT UPDATE (email, display_name, updated_at) ON users TO sensa_app;

-- The audit trail is for operators.
GRANT SELECT ON migrations_log TO admin_role;

-- @down
REVOKE ALL ON migrations_log FROM sensa_app, admin_role;
REVOKE ALL ON
	users, user_profiles, courses, course_documents, processed_documents, chapters, keywords,
	relationships, user_annotations, user_progress
	FROM sensa_app, admin_role;
REVOKE USAGE ON SCHEMA public FROM sensa_app, admin_role;
