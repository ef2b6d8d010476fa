import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { splitSql, SqlSyntaxError } from "./split-sql.js";

/** One file of sql/: its objects (up) and how to remove them (down, after `-- @down`). */
export interface SqlSource {
  file: string;
  up: string[];
  down: string[];
}

/**
 * sql/ORDER, the one place that says how sql/ is applied (its own header documents the syntax):
 * - `<file>`: the files, in the order they are applied (and removed in reverse);
 * - `<file>  rerun-after: <pattern> …`: the file is applied again in any migration that changes,
 *   adds or drops a file matching a pattern (`*` matches any characters), e.g. the grants after a
 *   function (DROP FUNCTION + CREATE loses its grants). A pattern matches only files listed
 *   before, and this is transitive;
 * - `removed <file> down|keep`: a file taken out of sql/: `down` runs the @down it had in the
 *   last migration, `keep` leaves its objects in place (now made by something else, e.g. a
 *   pgPolicy in src/schema). A file that disappears without such a line is an error.
 * `#` starts a comment, to the end of the line.
 */
export interface SqlOrder {
  files: string[];
  /** For each file with a rerun-after clause: its patterns. */
  rerunAfter: Map<string, string[]>;
  removed: Map<string, "down" | "keep">;
}

export function readSqlOrder(sqlDir: string): SqlOrder {
  const order: SqlOrder = { files: [], rerunAfter: new Map(), removed: new Map() };
  const lines = readFileSync(join(sqlDir, "ORDER"), "utf8").split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (!line) continue;
    const where = `sql/ORDER line ${i + 1}`;
    const removed = /^removed\s+(\S+)\s+(down|keep)$/.exec(line);
    if (removed) {
      order.removed.set(removed[1]!, removed[2] as "down" | "keep");
      continue;
    }
    const entry = /^(\S+\.sql)(?:\s+rerun-after:\s*(.+))?$/.exec(line);
    if (!entry)
      throw new Error(
        `${where}: expected "<file>.sql", "<file>.sql  rerun-after: <pattern> …" or "removed <file> down|keep", found "${line}"`,
      );
    const file = entry[1]!;
    if (order.files.includes(file)) throw new Error(`${where}: ${file} is listed twice`);
    const patterns = entry[2]?.split(/\s+/) ?? [];
    for (const pattern of patterns) {
      if (!order.files.some((f) => matches(pattern, f))) {
        throw new Error(
          `${where}: "rerun-after: ${pattern}" matches no file listed before ${file} (a file is applied again only after files before it)`,
        );
      }
    }
    if (patterns.length) order.rerunAfter.set(file, patterns);
    order.files.push(file);
  }
  for (const file of order.removed.keys()) {
    if (order.files.includes(file)) throw new Error(`sql/ORDER lists ${file} and also says it was removed`);
  }
  return order;
}

/** `*` matches any characters, `/` included; everything else matches itself. */
export function matches(pattern: string, file: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return regex.test(file);
}

const DOWN_MARKER = /^-- @down\s*$/m;

/** Reads sql/ in the order sql/ORDER gives; a file missing from ORDER (or vice versa) is an error. */
export async function readSqlSources(sqlDir: string, order: SqlOrder = readSqlOrder(sqlDir)): Promise<SqlSource[]> {
  const onDisk = listSqlFiles(sqlDir).map((f) => relative(sqlDir, f));
  const unlisted = onDisk.filter((f) => !order.files.includes(f));
  if (unlisted.length) throw new Error(`sql/ORDER does not list: ${unlisted.join(", ")}`);
  const sources: SqlSource[] = [];
  for (const file of order.files) {
    const path = join(sqlDir, file);
    if (!existsSync(path)) throw new Error(`sql/ORDER lists ${file}, which does not exist`);
    const text = readFileSync(path, "utf8");
    const [up, down] = text.split(DOWN_MARKER);
    if (down === undefined) throw new Error(`sql/${file} has no "-- @down" section saying how to remove its objects`);
    const split = async (part: string, offset: number) => {
      try {
        return await splitSql(part);
      } catch (error) {
        if (error instanceof SqlSyntaxError)
          throw new Error(`sql/${file} line ${error.line + offset}: ${error.reason}`);
        throw error;
      }
    };
    // The down part starts on the `-- @down` line.
    const downLine = (up ?? "").split("\n").length;
    sources.push({ file, up: await split(up ?? "", 0), down: await split(down, downLine - 1) });
  }
  return sources;
}

function listSqlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listSqlFiles(path);
    return name.endsWith(".sql") ? [path] : [];
  });
}
