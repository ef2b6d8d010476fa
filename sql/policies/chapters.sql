-- Chapters belong to the document's owner (copied by inherit_owner), so another user's
-- chapters can be neither read nor attached to.
SELECT rls_owner_policies('chapters', 'user_id');

-- @down
SELECT rls_remove('chapters');
