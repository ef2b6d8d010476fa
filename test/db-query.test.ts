import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryText } from "../src/db/query.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

// queryText sends the wrappers' fixed statements straight to the driver. One call is one statement
// however it is called: a text carrying a second one (a COMMIT that would end a context's
// transaction before its gate closes) is refused by the server, never run. node-postgres sends a
// parameterless query through the simple protocol, which runs every statement in the text, unless
// told otherwise.

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

describe("queryText", () => {
  it("refuses a text of two statements without parameters", async () => {
    await expect(queryText(t.db, "SELECT 1 AS a; SELECT 2 AS b", [])).rejects.toThrow(/multiple commands/);
  });

  it("refuses a text of two statements with parameters", async () => {
    await expect(queryText(t.db, "SELECT $1::int AS a; SELECT 2 AS b", [1])).rejects.toThrow(/multiple commands/);
  });

  it("returns the rows of one statement, with parameters or without", async () => {
    expect(await queryText(t.db, "SELECT 1 AS a", [])).toEqual([{ a: 1 }]);
    expect(await queryText(t.db, "SELECT $1::int AS a", [2])).toEqual([{ a: 2 }]);
  });
});
