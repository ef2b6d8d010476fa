import { seed, type SeedOptions, type SeedResult } from "../../seed/index.js";
import { defineCommand, print, type OptionValues } from "../command.js";
import { progressBar } from "../progress-bar.js";

const options = {
  seed: { type: "string" },
  users: { type: "string" },
  "courses-per-user": { type: "string" },
  "documents-per-course": { type: "string" },
  "chapters-per-document": { type: "string" },
  "keywords-per-chapter": { type: "string" },
  "relationships-per-chapter": { type: "string" },
  "annotations-per-user": { type: "string" },
  progress: { type: "string" },
  "defer-indexes": { type: "string" },
} as const;

/** `sensa-db seed`: the library's `seed` (seed/index.ts), with a progress bar on a terminal. */
export const seedCommand = defineCommand({
  name: "seed",
  summary: "fill the database with realistic, deterministic data",
  usage: `Usage: sensa-db seed [options] [--url <url>] [--json]

Writes users with courses, documents, chapters, keywords (768-dim embeddings around subject
centres), relationships, annotations and progress. The same --seed gives the same data.
  --seed <n>                      random seed (default 42)
  --users <n>                     users (default 5)
  --courses-per-user <n>          (default 2)
  --documents-per-course <n>      (default 3)
  --chapters-per-document <n>     (default 4)
  --keywords-per-chapter <n>      (default 8)
  --relationships-per-chapter <n> (default 4)
  --annotations-per-user <n>      (default 3)
  --progress <0..1>               share of chapters with progress (default 0.5)
  --defer-indexes <auto|yes|no>   rebuild HNSW indexes after the load (default auto: >1,000 embeddings)`,
  options,
  async handler(ctx, values) {
    const bar = !ctx.json && process.stderr.isTTY ? progressBar(process.stderr) : undefined;
    const result = await seed(ctx.db, seedOptions(values), bar);
    if (bar) process.stderr.write("\n");
    print(ctx, { ok: true, ...result, userIds: undefined }, describeResult(result));
    return 0;
  },
});

function seedOptions(values: OptionValues<typeof options>): SeedOptions {
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const defer = values["defer-indexes"];
  return {
    seed: number(values.seed),
    users: number(values.users),
    coursesPerUser: number(values["courses-per-user"]),
    documentsPerCourse: number(values["documents-per-course"]),
    chaptersPerDocument: number(values["chapters-per-document"]),
    keywordsPerChapter: number(values["keywords-per-chapter"]),
    relationshipsPerChapter: number(values["relationships-per-chapter"]),
    annotationsPerUser: number(values["annotations-per-user"]),
    progress: number(values.progress),
    deferIndexes: defer === undefined || defer === "auto" ? "auto" : defer === "yes",
  };
}

function describeResult(result: SeedResult): string {
  const lines = Object.entries(result.rows).map(([t, n]) => `  ${t.padEnd(20)} ${String(n).padStart(10)}`);
  const index = result.indexSeconds ? `, HNSW rebuild ${result.indexSeconds.toFixed(1)} s` : "";
  const total = `  ${"total".padEnd(20)} ${String(result.totalRows).padStart(10)} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rowsPerSecond)} rows/s${index})`;
  return `${lines.join("\n")}\n${total}`;
}
