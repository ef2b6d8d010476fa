-- What each role may do at all; row-level security then decides which rows.
GRANT USAGE ON SCHEMA public TO sensa_app, admin_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON
	user_profiles, courses, course_documents, processed_documents, chapters, keywords,
	relationships, user_annotations, user_progress
	TO sensa_app, admin_role;

-- users: the app may create its users' rows (Drizzle inserts write every column, so INSERT is
-- table-wide; triggers/user_role.sql keeps `role` at 'user') and edit contact details, never
-- `role` (so no user can make themselves a moderator or admin); admin_role may.
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO admin_role;
GRANT SELECT, INSERT, DELETE ON users TO sensa_app;
GRANT UPDATE (email, display_name, updated_at) ON users TO sensa_app;

-- Functions: PUBLIC may call none (security/functions.sql); these are the ones the roles call,
-- directly or from policies and triggers, which run them as the current role.
GRANT EXECUTE ON FUNCTION
	app_current_user_id(), app_is_admin(), set_current_user_id(uuid),
	raise_parent_not_visible(text, text, uuid),
	find_similar_documents(vector, integer, double precision),
	find_similar_keywords(vector, uuid, integer),
	search_courses(uuid, text, integer),
	search_keywords(uuid, text, integer),
	get_course_stats(uuid),
	get_user_progress_summary(uuid, uuid),
	get_user_learning_stats(uuid)
	TO sensa_app, admin_role;
-- Sign-in, before the app knows the user id; admin_role owns it and needs no grant.
GRANT EXECUTE ON FUNCTION find_or_create_user(text, text, text) TO sensa_app;

-- The audit trail is for operators.
GRANT SELECT ON migrations_log TO admin_role;

-- @down
REVOKE ALL ON migrations_log FROM sensa_app, admin_role;
REVOKE EXECUTE ON FUNCTION find_or_create_user(text, text, text) FROM sensa_app;
REVOKE EXECUTE ON FUNCTION
	app_current_user_id(), app_is_admin(), set_current_user_id(uuid),
	raise_parent_not_visible(text, text, uuid),
	find_similar_documents(vector, integer, double precision),
	find_similar_keywords(vector, uuid, integer),
	search_courses(uuid, text, integer),
	search_keywords(uuid, text, integer),
	get_course_stats(uuid),
	get_user_progress_summary(uuid, uuid),
	get_user_learning_stats(uuid)
	FROM sensa_app, admin_role;
REVOKE ALL ON
	users, user_profiles, courses, course_documents, processed_documents, chapters, keywords,
	relationships, user_annotations, user_progress
	FROM sensa_app, admin_role;
REVOKE USAGE ON SCHEMA public FROM sensa_app, admin_role;
