import { loadModule, parseSync, scanSync } from "libpg-query";

/**
 * SQL read with PostgreSQL's own parser (libpg-query: the server's grammar and lexer compiled to
 * WebAssembly), so quoting, `E'…'` escapes, nested comments, dollar quotes and `BEGIN ATOMIC …
 * END` bodies split exactly as the server would run them. Used by `npm run db:generate` only
 * (a devDependency): migrations are split at run time on Drizzle's `--> statement-breakpoint`.
 */

let loading: Promise<void> | undefined;
const ready = () => (loading ??= loadModule());

const COMMENT_TOKENS = new Set(["SQL_COMMENT", "C_COMMENT"]);

/** A script PostgreSQL's parser rejects: the message, and where (1-based line of the script). */
export class SqlSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
  ) {
    super(`${reason} (line ${line})`);
    this.name = "SqlSyntaxError";
  }
}

/**
 * Splits a script into its statements, each as written, ending with `;`. Comments between
 * statements are dropped, comments inside one are kept. Throws SqlSyntaxError on a script
 * the server would refuse to parse.
 *
 * ```ts
 * await splitSql("SELECT E'it\\'s'; /* a /* b *\/ c *\/ SELECT 2");
 * // ["SELECT E'it\\'s';", "SELECT 2;"]
 * ```
 */
export async function splitSql(script: string): Promise<string[]> {
  await ready();
  // The parser's positions are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(script, "utf8");
  const { stmts } = parse(script, bytes);
  const tokens = scanSync(script).tokens.filter((t) => !COMMENT_TOKENS.has(t.tokenName));
  const statements: string[] = [];
  for (const raw of stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    // stmt_len stops before the `;`; the last statement without one runs to the end.
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const inside = tokens.filter((t) => t.start >= start && t.end <= end && t.text !== ";");
    if (inside.length === 0) continue;
    statements.push(bytes.subarray(inside[0]!.start, inside.at(-1)!.end).toString("utf8") + ";");
  }
  return statements;
}

/**
 * What a statement means to the server, without its layout: the parse tree with source
 * positions left out. Whitespace and comments outside string constants do not change it; a
 * function body is a string constant, so any edit inside one does (it is what the catalog
 * stores as the function's source).
 */
export async function statementShape(statement: string): Promise<string> {
  await ready();
  return JSON.stringify(parse(statement, Buffer.from(statement, "utf8")).stmts ?? [], (key, value: unknown) =>
    key === "location" || key === "stmt_location" || key === "stmt_len" ? undefined : value,
  );
}

/** True when two lists of statements mean the same to the server (see statementShape). */
export async function sameStatements(a: string[], b: string[]): Promise<boolean> {
  if (a.length !== b.length) return false;
  for (const [i, statement] of a.entries()) {
    if ((await statementShape(statement)) !== (await statementShape(b[i]!))) return false;
  }
  return true;
}

function parse(script: string, bytes: Buffer) {
  try {
    return parseSync(script);
  } catch (error) {
    const details = (error as { sqlDetails?: { message: string; cursorPosition: number } }).sqlDetails;
    if (!details) throw error;
    const line = bytes.subarray(0, details.cursorPosition).toString("utf8").split("\n").length;
    throw new SqlSyntaxError(details.message, line);
  }
}
