// Moved to the core layer, src/db/query.ts; this re-export stays until nothing imports the old path.
export * from "../db/query.js";
