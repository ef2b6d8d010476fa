-- Uploads belong to the course owner (user_id is copied from the course by inherit_owner).
SELECT rls_owner_policies('course_documents', 'user_id');

-- @down
SELECT rls_remove('course_documents');
