/** Terminal formatting of the inspect reports: a table, and figures as an operator reads them. */

/** A column of a report's terminal table. */
export interface Column<Row> {
  header: string;
  value(row: Row): string;
  /** Numbers align right. */
  right?: boolean;
}

/** What a report hands the printer: rows for the table, the JSON document, and the exit code. */
export interface Output {
  json: Record<string, unknown>;
  text: string;
  exitCode: number;
}

export function table<Row>(report: { rows: Row[]; notes: string[] }, columns: Column<Row>[]): Output {
  const cells = report.rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const body = report.rows.length
    ? [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)]
    : ["(no rows)"];
  const notes = report.notes.map((n) => `note: ${n}`);
  return {
    json: { ok: true, rows: report.rows, notes: report.notes },
    text: [...body, ...notes].join("\n"),
    exitCode: 0,
  };
}

export const qualified = (schema: string, name: string) => (schema === "public" ? name : `${schema}.${name}`);
export const count = (n: number) => n.toLocaleString("en-US");
export const clip = (s: string, width: number) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
};
export const ratio = (r: number | null) => (r === null ? "-" : `${(r * 100).toFixed(2)}%`);
export const when = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace("T", " ") : "never");
export const latest = (a: Date | null, b: Date | null) => (a && b ? (a > b ? a : b) : (a ?? b));

export function bytes(n: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 10 * 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Math.round(value)} ${units[unit]}`;
}

export function duration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(0)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
