/**
 * The names of the schema's constraints, as PostgreSQL reports them in errors, so a caller can
 * switch on `error.constraint` with the compiler checking the names. test/schema.test.ts compares
 * these lists with the live catalog, so a constraint added, renamed or dropped fails a test until
 * it is listed here. (No name is over PostgreSQL's 63 bytes: test/identifiers.test.ts checks.)
 */
export const uniqueConstraints = [
  "chapters_pkey",
  "chapters_processed_document_id_chapter_number_unique",
  "course_documents_pkey",
  "course_documents_s3_key_unique",
  "courses_pkey",
  "keywords_chapter_id_term_unique",
  "keywords_pkey",
  "migrations_log_pkey",
  "processed_documents_document_id_unique",
  "processed_documents_pkey",
  "relationships_pkey",
  "relationships_source_target_type_unique",
  "user_annotations_pkey",
  "user_profiles_pkey",
  "user_profiles_user_id_unique",
  "user_progress_pkey",
  "user_progress_user_id_chapter_id_unique",
  "users_cognito_sub_unique",
  "users_email_unique",
  "users_pkey",
] as const;

export const foreignKeyConstraints = [
  "chapters_course_id_courses_id_fk",
  "chapters_processed_document_id_processed_documents_id_fk",
  "chapters_user_id_users_id_fk",
  "course_documents_course_id_courses_id_fk",
  "course_documents_user_id_users_id_fk",
  "courses_user_id_users_id_fk",
  "keywords_chapter_id_chapters_id_fk",
  "keywords_course_id_courses_id_fk",
  "keywords_user_id_users_id_fk",
  "processed_documents_course_id_courses_id_fk",
  "processed_documents_document_id_course_documents_id_fk",
  "processed_documents_user_id_users_id_fk",
  "relationships_source_keyword_id_keywords_id_fk",
  "relationships_target_keyword_id_keywords_id_fk",
  "relationships_user_id_users_id_fk",
  "user_annotations_chapter_id_chapters_id_fk",
  "user_annotations_processed_document_id_fk",
  "user_annotations_user_id_users_id_fk",
  "user_profiles_user_id_users_id_fk",
  "user_progress_chapter_id_chapters_id_fk",
  "user_progress_course_id_courses_id_fk",
  "user_progress_user_id_users_id_fk",
] as const;

export const checkConstraints = [
  "chapters_chapter_number_check",
  "course_documents_file_size_bytes_check",
  "keywords_importance_check",
  "migrations_log_direction_check",
  "relationships_no_self_loop_check",
  "relationships_strength_check",
  "user_annotations_rating_check",
  "user_progress_completion_percentage_check",
  "user_progress_time_spent_seconds_check",
] as const;

export type UniqueConstraint = (typeof uniqueConstraints)[number];
export type ForeignKeyConstraint = (typeof foreignKeyConstraints)[number];
export type CheckConstraint = (typeof checkConstraints)[number];
