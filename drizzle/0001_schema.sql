CREATE TYPE "public"."complexity_level_enum" AS ENUM('high', 'medium', 'low');--> statement-breakpoint
CREATE TYPE "public"."feedback_type_enum" AS ENUM('concept_map', 'processing', 'general', 'analogy');--> statement-breakpoint
CREATE TYPE "public"."learning_style_enum" AS ENUM('visual', 'auditory', 'kinesthetic', 'reading');--> statement-breakpoint
CREATE TYPE "public"."processing_status_enum" AS ENUM('pending', 'processing', 'completed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."user_role" AS ENUM('user', 'admin', 'moderator');--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"cognito_sub" text NOT NULL,
	"email" text NOT NULL,
	"display_name" text,
	"role" "user_role" DEFAULT 'user' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_cognito_sub_unique" UNIQUE("cognito_sub"),
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "user_profiles" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"user_id" uuid NOT NULL,
	"learning_style" "learning_style_enum",
	"preferred_complexity" "complexity_level_enum" DEFAULT 'medium' NOT NULL,
	"interests" text[] DEFAULT '{}'::text[] NOT NULL,
	"preferences" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_profiles_user_id_unique" UNIQUE("user_id")
);
--> statement-breakpoint
CREATE TABLE "courses" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"subject" text,
	"is_archived" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "course_documents" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"course_id" uuid NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"file_name" text NOT NULL,
	"s3_key" text NOT NULL,
	"mime_type" text,
	"file_size_bytes" bigint,
	"processing_status" "processing_status_enum" DEFAULT 'pending' NOT NULL,
	"processing_error" text,
	"processing_started_at" timestamp with time zone,
	"processing_completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "course_documents_s3_key_unique" UNIQUE("s3_key"),
	CONSTRAINT "course_documents_file_size_bytes_check" CHECK ("course_documents"."file_size_bytes" >= 0)
);
--> statement-breakpoint
CREATE TABLE "processed_documents" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"document_id" uuid NOT NULL,
	"course_id" uuid DEFAULT null NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"title" text NOT NULL,
	"summary" text,
	"concept_map" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"complexity_level" "complexity_level_enum",
	"embedding" vector(768),
	"embedding_model" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processed_documents_document_id_unique" UNIQUE("document_id")
);
--> statement-breakpoint
CREATE TABLE "chapters" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"processed_document_id" uuid NOT NULL,
	"course_id" uuid DEFAULT null NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"chapter_number" integer NOT NULL,
	"title" text NOT NULL,
	"content" text,
	"summary" text,
	"embedding" vector(768),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chapters_processed_document_id_chapter_number_unique" UNIQUE("processed_document_id","chapter_number"),
	CONSTRAINT "chapters_chapter_number_check" CHECK ("chapters"."chapter_number" >= 1)
);
--> statement-breakpoint
CREATE TABLE "keywords" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"chapter_id" uuid NOT NULL,
	"course_id" uuid DEFAULT null NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"term" text NOT NULL,
	"definition" text,
	"complexity_level" "complexity_level_enum",
	"importance" real DEFAULT 0.5 NOT NULL,
	"embedding" vector(768),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "keywords_chapter_id_term_unique" UNIQUE("chapter_id","term"),
	CONSTRAINT "keywords_importance_check" CHECK ("keywords"."importance" >= 0 AND "keywords"."importance" <= 1)
);
--> statement-breakpoint
CREATE TABLE "relationships" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"source_keyword_id" uuid NOT NULL,
	"target_keyword_id" uuid NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"relationship_type" text NOT NULL,
	"strength" real DEFAULT 0.5 NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "relationships_source_target_type_unique" UNIQUE("source_keyword_id","target_keyword_id","relationship_type"),
	CONSTRAINT "relationships_strength_check" CHECK ("relationships"."strength" >= 0 AND "relationships"."strength" <= 1),
	CONSTRAINT "relationships_no_self_loop_check" CHECK ("relationships"."source_keyword_id" <> "relationships"."target_keyword_id")
);
--> statement-breakpoint
CREATE TABLE "user_annotations" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"processed_document_id" uuid,
	"chapter_id" uuid,
	"feedback_type" "feedback_type_enum" NOT NULL,
	"rating" smallint,
	"comment" text,
	"target" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_annotations_rating_check" CHECK ("user_annotations"."rating" BETWEEN 1 AND 5)
);
--> statement-breakpoint
CREATE TABLE "user_progress" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"user_id" uuid DEFAULT (nullif(current_setting('app.current_user_id', true), ''))::uuid NOT NULL,
	"chapter_id" uuid NOT NULL,
	"course_id" uuid DEFAULT null NOT NULL,
	"completion_percentage" numeric(5, 2) DEFAULT 0 NOT NULL,
	"time_spent_seconds" integer DEFAULT 0 NOT NULL,
	"last_accessed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_progress_user_id_chapter_id_unique" UNIQUE("user_id","chapter_id"),
	CONSTRAINT "user_progress_completion_percentage_check" CHECK ("user_progress"."completion_percentage" BETWEEN 0 AND 100),
	CONSTRAINT "user_progress_time_spent_seconds_check" CHECK ("user_progress"."time_spent_seconds" >= 0)
);
--> statement-breakpoint
ALTER TABLE "user_profiles" ADD CONSTRAINT "user_profiles_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "courses" ADD CONSTRAINT "courses_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "course_documents" ADD CONSTRAINT "course_documents_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "course_documents" ADD CONSTRAINT "course_documents_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "processed_documents" ADD CONSTRAINT "processed_documents_document_id_course_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."course_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "processed_documents" ADD CONSTRAINT "processed_documents_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "processed_documents" ADD CONSTRAINT "processed_documents_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chapters" ADD CONSTRAINT "chapters_processed_document_id_processed_documents_id_fk" FOREIGN KEY ("processed_document_id") REFERENCES "public"."processed_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chapters" ADD CONSTRAINT "chapters_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chapters" ADD CONSTRAINT "chapters_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "keywords" ADD CONSTRAINT "keywords_chapter_id_chapters_id_fk" FOREIGN KEY ("chapter_id") REFERENCES "public"."chapters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "keywords" ADD CONSTRAINT "keywords_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "keywords" ADD CONSTRAINT "keywords_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_source_keyword_id_keywords_id_fk" FOREIGN KEY ("source_keyword_id") REFERENCES "public"."keywords"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_target_keyword_id_keywords_id_fk" FOREIGN KEY ("target_keyword_id") REFERENCES "public"."keywords"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_annotations" ADD CONSTRAINT "user_annotations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_annotations" ADD CONSTRAINT "user_annotations_processed_document_id_processed_documents_id_fk" FOREIGN KEY ("processed_document_id") REFERENCES "public"."processed_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_annotations" ADD CONSTRAINT "user_annotations_chapter_id_chapters_id_fk" FOREIGN KEY ("chapter_id") REFERENCES "public"."chapters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_progress" ADD CONSTRAINT "user_progress_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_progress" ADD CONSTRAINT "user_progress_chapter_id_chapters_id_fk" FOREIGN KEY ("chapter_id") REFERENCES "public"."chapters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_progress" ADD CONSTRAINT "user_progress_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "users_role_idx" ON "users" USING btree ("role");--> statement-breakpoint
CREATE INDEX "courses_user_id_idx" ON "courses" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "courses_title_trgm_idx" ON "courses" USING gin ("title" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "courses_description_trgm_idx" ON "courses" USING gin ("description" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "course_documents_course_id_idx" ON "course_documents" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "course_documents_user_id_idx" ON "course_documents" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "course_documents_processing_status_idx" ON "course_documents" USING btree ("processing_status");--> statement-breakpoint
CREATE INDEX "processed_documents_course_id_idx" ON "processed_documents" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "processed_documents_user_id_idx" ON "processed_documents" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "processed_documents_embedding_idx" ON "processed_documents" USING hnsw ("embedding" vector_cosine_ops);--> statement-breakpoint
CREATE INDEX "chapters_course_id_idx" ON "chapters" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "chapters_user_id_idx" ON "chapters" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "chapters_embedding_idx" ON "chapters" USING hnsw ("embedding" vector_cosine_ops);--> statement-breakpoint
CREATE INDEX "keywords_course_id_idx" ON "keywords" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "keywords_user_id_idx" ON "keywords" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "keywords_term_trgm_idx" ON "keywords" USING gin ("term" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "keywords_embedding_idx" ON "keywords" USING hnsw ("embedding" vector_cosine_ops);--> statement-breakpoint
CREATE INDEX "relationships_target_keyword_id_idx" ON "relationships" USING btree ("target_keyword_id");--> statement-breakpoint
CREATE INDEX "relationships_user_id_idx" ON "relationships" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "user_annotations_user_id_idx" ON "user_annotations" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "user_annotations_processed_document_id_idx" ON "user_annotations" USING btree ("processed_document_id");--> statement-breakpoint
CREATE INDEX "user_annotations_chapter_id_idx" ON "user_annotations" USING btree ("chapter_id");--> statement-breakpoint
CREATE INDEX "user_progress_chapter_id_idx" ON "user_progress" USING btree ("chapter_id");--> statement-breakpoint
CREATE INDEX "user_progress_course_id_idx" ON "user_progress" USING btree ("course_id");--> statement-breakpoint
SELECT set_config('sensa.migration_name', '0001_schema', true);
