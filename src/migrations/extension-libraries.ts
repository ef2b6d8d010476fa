import { sql } from "drizzle-orm";
import type { Database } from "../connection.js";

/**
 * Functions set parameters of the extensions' libraries (`SET hnsw.ef_search`, `SET
 * pg_trgm.word_similarity_threshold`). PostgreSQL can check such a setting only once the library
 * is loaded in the session, and before that refuses it to a non-superuser ("permission denied to
 * set parameter"), which RDS's master user is. `LOAD` itself needs a superuser, but calling one C
 * function of each extension loads its library.
 *
 * This statement opens every sql/ bundle (and the part of a rollback that restores an older
 * bundle), so `drizzle-kit migrate` gets it too.
 */
export const LOAD_EXTENSION_LIBRARIES =
  "-- Loads the vector and pg_trgm libraries into this session, so that functions may SET their parameters (see src/migrations/extension-libraries.ts).\n" +
  "SELECT '[0]'::vector IS NOT NULL AS vector_loaded, similarity('', '') IS NOT NULL AS pg_trgm_loaded;";

/**
 * The same, for the migrate and rollback runners, before their batch: bundles applied before
 * the statement above existed (0002) start without it. Does nothing until the extensions exist.
 */
export async function loadExtensionLibraries(session: Database): Promise<void> {
  await session.execute(
    sql.raw(`DO $$
      BEGIN
        IF to_regtype('vector') IS NOT NULL THEN PERFORM '[0]'::vector; END IF;
        IF to_regprocedure('similarity(text, text)') IS NOT NULL THEN PERFORM similarity('', ''); END IF;
      END
    $$`),
  );
}
