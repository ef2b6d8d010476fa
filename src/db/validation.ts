import { z } from "zod";
import { ValidationError } from "./errors.js";
import { EMBEDDING_DIMENSIONS } from "./constants.js";

/** The input rules every wrapper shares, so a limit or an embedding means the same everywhere. */
export const uuidInput = z.uuid();
export const embeddingInput = z
  .array(
    // pgvector stores 4-byte floats: a JS number past float4's range (|x| > 3.4e38) is finite
    // here but infinite there, and the server's refusal would abort the caller's transaction.
    z
      .number()
      .finite()
      .refine((x) => Number.isFinite(Math.fround(x)), {
        error: "embedding values must fit a 4-byte float (|x| <= 3.4e38)",
      }),
    { error: "embedding must be an array of numbers" },
  )
  .length(EMBEDDING_DIMENSIONS, { error: `embedding must have exactly ${EMBEDDING_DIMENSIONS} dimensions` });
export const limitInput = z.number().int().min(1).max(1000);
export const similarityInput = z.number().min(0).max(1);
export const queryInput = z.string().trim().min(1, { error: "query must not be empty" }).max(500);

/** Parses input or throws a ValidationError listing every bad field; nothing reaches SQL first. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join(".") || "(input)", message: i.message }));
  const summary = issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join("; ");
  throw new ValidationError(
    `invalid input to ${what}: ${summary}${issues.length > 3 ? ` (+${issues.length - 3} more)` : ""}`,
    issues,
  );
}
