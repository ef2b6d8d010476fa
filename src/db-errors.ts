// Moved to the core layer, src/db/database-errors.ts; this re-export stays until nothing imports the old path.
export * from "./db/database-errors.js";
