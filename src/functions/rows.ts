// Moved to the core layer (src/db/query.ts); this path stays until every importer points there.
export { queryRows, num, str, strOrNull, dateOrNull } from "../db/query.js";
