-- Keywords belong to the chapter's owner (copied by inherit_owner).
SELECT rls_owner_policies('keywords', 'user_id');

-- @down
SELECT rls_remove('keywords');
