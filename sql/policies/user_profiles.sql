-- A user's personalisation is theirs alone.
SELECT rls_owner_policies('user_profiles', 'user_id');

-- @down
SELECT rls_remove('user_profiles');
