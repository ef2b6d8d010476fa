import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import {
  closeDb,
  createDb,
  isEmbedded,
  loadEmbedded,
  withDatabase,
  type ConnectionTarget,
  type Database,
} from "../connection.js";
import { ConfigurationError } from "../db/errors.js";
import { pgMessage } from "../migrations/session.js";
import { EXTENSIONS } from "../db/constants.js";
import { quoteIdentifier } from "../db/query.js";

export interface Reference {
  db: Database;
  /** Where the expected schema is built, for the report. */
  description: string;
  dispose(): Promise<void>;
}

/**
 * An empty database to build the expected schema in, for `verify`: the one given, else a
 * scratch database on the same server as the live one (however it was reached: url or `PG*`
 * variables, with the same TLS and credentials; needs CREATEDB and the right to create the
 * extensions, as RDS's master user has), else, for an embedded database, another in memory.
 * Comparing a server with PGlite would compare two PostgreSQL versions, not two schemas.
 */
export async function openReference(
  live: Database,
  liveTarget: ConnectionTarget | undefined,
  referenceUrl: string | undefined,
): Promise<Reference> {
  if (referenceUrl) {
    const db = createDb({ url: referenceUrl });
    return { db, description: "the database given by --reference-url", dispose: () => closeDb(db) };
  }
  if (isEmbedded(live) || !liveTarget) {
    const { createEmbeddedDb } = await loadEmbedded();
    const db = await createEmbeddedDb();
    return { db, description: "an in-memory embedded database", dispose: () => closeDb(db) };
  }
  const name = `sensa_verify_${randomBytes(5).toString("hex")}`;
  try {
    await live.execute(sql.raw(`CREATE DATABASE ${name}`));
  } catch (error) {
    throw new ConfigurationError(
      `verify could not create a scratch database (${pgMessage(error)}): pass --reference-url with an empty database`,
    );
  }
  const db = createDb({ target: withDatabase(liveTarget, name), applicationName: "sensa-db verify (reference)" });
  const dispose = async () => {
    await closeDb(db);
    await live.execute(sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  try {
    for (const ext of EXTENSIONS) await db.execute(sql.raw(`CREATE EXTENSION IF NOT EXISTS ${quoteIdentifier(ext)}`));
  } catch (error) {
    await dispose();
    throw new ConfigurationError(
      `verify could not create the extensions in a scratch database (${pgMessage(error)}): pass --reference-url with an empty database that has ${EXTENSIONS.join(", ")}`,
    );
  }
  return { db, description: `scratch database ${name} on the same server`, dispose };
}
