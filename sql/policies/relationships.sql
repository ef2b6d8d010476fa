-- Relationships belong to the owner of both their keywords (checked by inherit_owner).
SELECT rls_owner_policies('relationships', 'user_id');

-- @down
SELECT rls_remove('relationships');
