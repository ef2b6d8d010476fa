-- Progress is the learner's own; inherit_owner checks the chapter is visible to them.
SELECT rls_owner_policies('user_progress', 'user_id');

-- @down
SELECT rls_remove('user_progress');
