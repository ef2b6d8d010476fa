-- Rollback of drizzle/0005_documents_hnsw_m24.sql (written by hand: the migration was reordered).
-- The index as it was (pgvector's defaults, m 16 and ef_construction 64), built the same way as
-- the migration builds its own: the other graph first, then the swap, so reads go on meanwhile.
SET LOCAL maintenance_work_mem = '1GB';
--> statement-breakpoint
CREATE INDEX "processed_documents_embedding_idx_0005" ON "processed_documents" USING hnsw ("embedding" vector_cosine_ops);
--> statement-breakpoint
DROP INDEX "processed_documents_embedding_idx";
--> statement-breakpoint
ALTER INDEX "processed_documents_embedding_idx_0005" RENAME TO "processed_documents_embedding_idx";
