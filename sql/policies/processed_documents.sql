-- Processing output belongs to the document's owner (copied by inherit_owner).
SELECT rls_owner_policies('processed_documents', 'user_id');

-- @down
SELECT rls_remove('processed_documents');
