// Moved to the core layer, src/db/validation.ts; this re-export stays until nothing imports the old path.
export * from "./db/validation.js";
