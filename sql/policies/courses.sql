-- Courses are created by and private to their owner.
SELECT rls_owner_policies('courses', 'user_id');

-- @down
SELECT rls_remove('courses');
