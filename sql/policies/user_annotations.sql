-- Feedback is its author's. Moderators (users.role = 'moderator') review feedback, so they may
-- read everyone's annotations, and nothing else of other users: this extra policy is
-- SELECT-only, and permissive policies are OR-ed with the owner ones.
SELECT rls_owner_policies('user_annotations', 'user_id');

CREATE POLICY user_annotations_select_moderator ON user_annotations FOR SELECT
	USING ((SELECT EXISTS (SELECT FROM users u WHERE u.id = app_current_user_id() AND u.role = 'moderator')));

-- @down
SELECT rls_remove('user_annotations');
