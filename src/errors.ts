// Moved to the core layer, src/db/errors.ts; this re-export stays until nothing imports the old path.
export * from "./db/errors.js";
