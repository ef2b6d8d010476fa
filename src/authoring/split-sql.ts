/**
 * Splits a SQL script into statements at top-level semicolons, respecting quotes, dollar
 * quoting and comments, so each statement can be run on its own. PGlite runs one statement
 * per query, and Drizzle's migrator runs each `--> statement-breakpoint` chunk as one query.
 * Comments that stand alone between statements are dropped; comments inside one are kept.
 */
export function splitSql(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  const push = (end: number) => {
    const text = stripLeadingComments(script.slice(start, end)).trim();
    if (text.length > 0) statements.push(text.endsWith(";") ? text : text + ";");
  };
  while (i < n) {
    const c = script[i]!;
    if (c === "-" && script[i + 1] === "-") {
      const eol = script.indexOf("\n", i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === "/" && script[i + 1] === "*") {
      const close = script.indexOf("*/", i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === "'" || c === '"') {
      i = skipQuoted(script, i, c);
    } else if (c === "$") {
      const tag = /^\$[A-Za-z_][A-Za-z0-9_]*\$|^\$\$/.exec(script.slice(i, i + 64));
      if (tag) {
        const close = script.indexOf(tag[0], i + tag[0].length);
        if (close === -1) throw new Error(`unterminated dollar quote ${tag[0]}`);
        i = close + tag[0].length;
      } else i++;
    } else if (c === ";") {
      push(i + 1);
      start = ++i;
    } else i++;
  }
  push(n);
  return statements;
}

function skipQuoted(s: string, from: number, quote: string): number {
  let i = from + 1;
  while (i < s.length) {
    if (s[i] === quote) {
      if (s[i + 1] === quote) i += 2; // '' or "" is an escaped quote
      else return i + 1;
    } else i++;
  }
  throw new Error(`unterminated ${quote} quote`);
}

function stripLeadingComments(text: string): string {
  let t = text.trimStart();
  while (t.startsWith("--")) {
    const eol = t.indexOf("\n");
    t = eol === -1 ? "" : t.slice(eol + 1).trimStart();
  }
  return t;
}
