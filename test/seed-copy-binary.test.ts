import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sql } from "drizzle-orm";
import { date, pgTable, text } from "drizzle-orm/pg-core";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db/query.js";
import { CopyBinaryWriter, encoders, type FieldEncoder } from "../src/seed/copy-binary.js";
import { copyShape } from "../src/seed/copy-columns.js";
import { keywords } from "../src/schema/index.js";
import { onServer, openTestDatabase, type TestDatabase } from "./support/database.js";

let t: TestDatabase;
beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(() => t?.close());

/** One field as the writer puts it in a row, without its int32 length (checked against the rest). */
function field(encoder: FieldEncoder, value: unknown): Buffer {
  const w = new CopyBinaryWriter(16);
  encoder(w, value);
  const out = w.take();
  expect(out.readInt32BE(0)).toBe(out.length - 4);
  return out.subarray(4);
}

const sendOf = async (expression: string) => {
  const [row] = await queryRows(t.db, sql.raw(`SELECT encode(${expression}, 'hex') AS hex`));
  return Buffer.from(String(row!.hex), "hex");
};

describe("binary COPY encoder", () => {
  // Each type's send function is the inverse of the recv function COPY BINARY calls, so equal
  // bytes mean the server reads back exactly the value written.
  const cases: Array<[string, FieldEncoder, unknown, string]> = [
    [
      "uuid",
      encoders.uuid,
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      "uuid_send('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)",
    ],
    ["text", encoders.text, 'Grüße, "quoted" \\ tab\t 🙂', `textsend(E'Grüße, "quoted" \\\\ tab\\t 🙂')`],
    ["an enum label", encoders.text, "moderator", "enum_send('moderator'::user_role)"],
    ["boolean", encoders.bool, true, "boolsend(true)"],
    ["smallint", encoders.int2, -5, "int2send((-5)::int2)"],
    ["integer", encoders.int4, 2_000_000_123, "int4send(2000000123)"],
    ["bigint", encoders.int8, 5_000_000_000, "int8send(5000000000::int8)"],
    ["real", encoders.float4, 0.1, "float4send(0.1::real)"],
    ["double precision", encoders.float8, -1e-7, "float8send((-1e-7)::float8)"],
    ["numeric, an integer", encoders.numeric, 37, "numeric_send('37'::numeric)"],
    ["numeric, a negative fraction", encoders.numeric, "-12.5", "numeric_send('-12.5'::numeric)"],
    [
      "numeric, several base-10000 digits",
      encoders.numeric,
      "123456789.000105",
      "numeric_send('123456789.000105'::numeric)",
    ],
    ["numeric, a small fraction", encoders.numeric, "0.05", "numeric_send('0.05'::numeric)"],
    ["numeric, zero", encoders.numeric, 0, "numeric_send('0'::numeric)"],
    [
      "timestamptz",
      encoders.timestamptz,
      new Date("2026-11-29T12:34:56.789Z"),
      "timestamptz_send('2026-11-29T12:34:56.789Z'::timestamptz)",
    ],
    [
      "timestamptz before 2000",
      encoders.timestamptz,
      new Date("1999-12-31T23:59:59Z"),
      "timestamptz_send('1999-12-31T23:59:59Z'::timestamptz)",
    ],
    [
      "text[] with a NULL",
      encoders.textArray,
      ["Biology", null, "Grüße"],
      "array_send(ARRAY['Biology', NULL, 'Grüße']::text[])",
    ],
    ["an empty text[]", encoders.textArray, [], "array_send('{}'::text[])"],
    ["vector", encoders.vector, [0.5, -1.25, 3, 0.00001], "vector_send('[0.5,-1.25,3,0.00001]'::vector)"],
  ];
  it.each(cases)("writes %s exactly as the server's send function does", async (_, encoder, value, send) => {
    expect(field(encoder, value).toString("hex")).toBe((await sendOf(send)).toString("hex"));
  });

  it("writes jsonb as version 1 followed by the JSON text", () => {
    expect(field(encoders.jsonb, { nodes: [], note: "é" })).toEqual(
      Buffer.concat([Buffer.from([1]), Buffer.from('{"nodes":[],"note":"é"}')]),
    );
  });

  it("refuses, before sending anything, values the column type cannot hold", () => {
    expect(() => field(encoders.int2, 40_000)).toThrow(/not a smallint/);
    expect(() => field(encoders.int4, 1.5)).toThrow(/not a integer/);
    expect(() => field(encoders.uuid, "not-a-uuid")).toThrow(/not a UUID/);
    expect(() => field(encoders.uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g")).toThrow(/not a UUID/);
    expect(() => field(encoders.uuid, "a0eebc999-c0b-4ef8-bb6d-6bb9bd380a11")).toThrow(/not a UUID/);
    expect(() => field(encoders.uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\u00e9")).toThrow(/not a UUID/);
    expect(() => field(encoders.numeric, "1e5")).toThrow(/plain decimal/);
    expect(() => field(encoders.timestamptz, new Date("nonsense"))).toThrow(/invalid Date/);
  });

  it("grows its buffer for a row larger than the one it started with", () => {
    const w = new CopyBinaryWriter(8);
    const vector = Array.from({ length: 768 }, (_, i) => i / 768);
    w.row(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", vector], [encoders.uuid, encoders.vector]);
    const out = w.take();
    expect(out.length).toBe(2 + (4 + 16) + (4 + 4 + 768 * 4));
    expect(out.readFloatBE(2 + 20 + 8 + 767 * 4)).toBe(Math.fround(767 / 768));
  });

  it("maps every column of the seeded tables to an encoder, and names a column type it has none for", () => {
    expect(copyShape(keywords, ["id", "chapterId", "term", "importance", "embedding"]).statement).toBe(
      'COPY "keywords" ("id", "chapter_id", "term", "importance", "embedding") FROM STDIN (FORMAT binary)',
    );
    const events = pgTable("events", { name: text("name"), day: date("day") });
    expect(() => copyShape(events, ["name", "day"])).toThrow("no binary COPY encoder for events.day (date)");
  });
});

const noServer = onServer() ? undefined : "PGlite has no COPY FROM STDIN (the seed's INSERT path runs there)";

describe.skipIf(noServer)(
  `COPY … FROM STDIN (FORMAT binary) on the server${noServer ? ` (skipped: ${noServer})` : ""}`,
  () => {
    it("stores rows of every type the seed writes so that SELECT returns what was generated", async () => {
      const client = new pg.Client({ connectionString: t.url });
      await client.connect();
      try {
        await client.query(`CREATE TEMP TABLE every_type (
        id uuid, label text, role user_role, flag boolean, small smallint, count integer, size bigint, score real,
        completion numeric(5, 2), doc jsonb, at timestamptz, tags text[], embedding vector(3))`);
        const rows: unknown[][] = [
          [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "Grüße",
            "moderator",
            true,
            -3,
            42,
            5_000_000_000,
            0.25,
            37,
            { nodes: [{ id: 1 }] },
            new Date("2026-11-29T01:02:03.004Z"),
            ["Biology", "Chemistry"],
            [0.12345, -1, 3.5],
          ],
          [
            "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
            "",
            "user",
            false,
            0,
            -1,
            0,
            -0.5,
            "99.99",
            {},
            new Date("1999-01-01T00:00:00Z"),
            [],
            [0, 0, 1],
          ],
          [
            "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13",
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
          ],
        ];
        const codecs = [
          encoders.uuid,
          encoders.text,
          encoders.text,
          encoders.bool,
          encoders.int2,
          encoders.int4,
          encoders.int8,
          encoders.float4,
          encoders.numeric,
          encoders.jsonb,
          encoders.timestamptz,
          encoders.textArray,
          encoders.vector,
        ];
        const w = new CopyBinaryWriter().header();
        for (const r of rows) w.row(r, codecs);
        await pipeline(
          Readable.from([w.trailer().take()]),
          client.query(copyFrom("COPY every_type FROM STDIN (FORMAT binary)")),
        );
        const { rows: back } = await client.query(
          "SELECT id, label, role::text, flag, small, count, size::text, score, completion::text, doc, at, tags, embedding::text FROM every_type ORDER BY id",
        );
        expect(back.map((r) => Object.values(r))).toEqual([
          [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "Grüße",
            "moderator",
            true,
            -3,
            42,
            "5000000000",
            0.25,
            "37.00",
            { nodes: [{ id: 1 }] },
            new Date("2026-11-29T01:02:03.004Z"),
            ["Biology", "Chemistry"],
            "[0.12345,-1,3.5]",
          ],
          [
            "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",
            "",
            "user",
            false,
            0,
            -1,
            "0",
            -0.5,
            "99.99",
            {},
            new Date("1999-01-01T00:00:00Z"),
            [],
            "[0,0,1]",
          ],
          [
            "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13",
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
          ],
        ]);
      } finally {
        await client.end();
      }
    });

    it("is refused a vector of the wrong dimension by the column, as a text literal would be", async () => {
      const client = new pg.Client({ connectionString: t.url });
      await client.connect();
      try {
        await client.query("CREATE TEMP TABLE v (embedding vector(3))");
        const w = new CopyBinaryWriter()
          .header()
          .row([[1, 2]], [encoders.vector])
          .trailer();
        await expect(
          pipeline(Readable.from([w.take()]), client.query(copyFrom("COPY v FROM STDIN (FORMAT binary)"))),
        ).rejects.toThrow(/expected 3 dimensions, not 2/);
      } finally {
        await client.end();
      }
    });
  },
);
