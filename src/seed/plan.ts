import { z } from "zod";
import { parseInput } from "../db/validation.js";

/** How much data to make. Every count is per parent, so the total scales multiplicatively. */
export const seedOptionsSchema = z.object({
  seed: z.number().int().min(0).default(42),
  users: z.number().int().min(1).max(1_000_000).default(5),
  coursesPerUser: z.number().int().min(1).max(1000).default(2),
  documentsPerCourse: z.number().int().min(1).max(1000).default(3),
  chaptersPerDocument: z.number().int().min(1).max(1000).default(4),
  keywordsPerChapter: z.number().int().min(0).max(1000).default(8),
  relationshipsPerChapter: z.number().int().min(0).max(1000).default(4),
  annotationsPerUser: z.number().int().min(0).max(1000).default(3),
  /** Share of each user's chapters they have progress on, 0..1. */
  progress: z.number().min(0).max(1).default(0.5),
  /**
   * Drop the HNSW indexes during the load and rebuild them after: much faster for large loads.
   * `auto` does it above 1,000 new embeddings (HNSW inserts row by row cost ~3x the whole load).
   */
  deferIndexes: z.union([z.boolean(), z.literal("auto")]).default("auto"),
  /** Which rows get embeddings besides documents (always); a benchmark may skip some to load faster. */
  embedChapters: z.boolean().default(true),
  embedKeywords: z.boolean().default(true),
  /**
   * `auto`: binary COPY on a server when the session owns the tables, else multi-row INSERTs
   * (PGlite, or a non-owning member of admin_role). `insert` forces the INSERTs, e.g. to compare.
   */
  loader: z.enum(["auto", "insert"]).default("auto"),
});
export type SeedOptions = z.input<typeof seedOptionsSchema>;
export type SeedPlan = z.output<typeof seedOptionsSchema>;

export function planSeed(options: SeedOptions): SeedPlan {
  return parseInput(seedOptionsSchema, options, "seed");
}

/** Rows each table will get, before any is written (for the progress bar and the summary). */
export function expectedRows(p: SeedPlan) {
  const courses = p.users * p.coursesPerUser;
  const documents = courses * p.documentsPerCourse;
  const chapters = documents * p.chaptersPerDocument;
  return {
    users: p.users,
    user_profiles: p.users,
    courses,
    course_documents: documents,
    processed_documents: documents,
    chapters,
    keywords: chapters * p.keywordsPerChapter,
    relationships: chapters * Math.min(p.relationshipsPerChapter, Math.max(0, p.keywordsPerChapter - 1)),
    user_annotations: p.users * p.annotationsPerUser,
    user_progress: Math.round(chapters * p.progress),
  };
}
