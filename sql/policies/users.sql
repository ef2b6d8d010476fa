-- A user sees and edits only their own account row (the row *is* the owner, so its id is the
-- owner column). Which columns sensa_app may write is limited in grants/grants.sql, so a user
-- cannot promote themselves by updating `role`.
SELECT rls_owner_policies('users', 'id');

-- @down
SELECT rls_remove('users');
