import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER, CopyBinaryWriter } from "./copy-binary.js";
import { copyShape, type CopyShape } from "./copy-columns.js";
import type { UserBatch } from "./generate.js";
import { LOAD_ORDER, rowsOf, type Loader, type TableName, type TableTimes } from "./load.js";
import type { SeedSession } from "./session.js";

/** Encoded bytes handed to the stream at a time. */
const PART_BYTES = 1 << 20;

interface Pending {
  shape: CopyShape;
  writer: CopyBinaryWriter;
  parts: Buffer[];
  rows: number;
}

/**
 * Loads through `COPY … FROM STDIN (FORMAT binary)`, one COPY per table per flush: rows are
 * encoded as they are added (copy-binary.ts), so what waits in memory is at most one flush's
 * bytes, never a whole table.
 */
export class CopyLoader implements Loader {
  private pending = new Map<TableName, Pending>();
  private bytes = 0;

  constructor(private readonly session: SeedSession & Required<Pick<SeedSession, "copy">>) {}

  get pendingBytes(): number {
    return this.bytes;
  }

  add(batch: UserBatch): void {
    for (const [name, table] of LOAD_ORDER) {
      const rows = rowsOf(batch, name);
      if (!rows.length) continue;
      let p = this.pending.get(name);
      if (!p) {
        p = { shape: copyShape(table, Object.keys(rows[0]!)), writer: new CopyBinaryWriter(), parts: [], rows: 0 };
        this.pending.set(name, p);
      }
      const before = p.writer.length;
      for (const row of rows)
        p.writer.row(
          p.shape.keys.map((k) => row[k]),
          p.shape.encoders,
        );
      p.rows += rows.length;
      this.bytes += p.writer.length - before;
      if (p.writer.length >= PART_BYTES) p.parts.push(p.writer.take());
    }
  }

  flush(): Promise<TableTimes> {
    const batches = LOAD_ORDER.flatMap(([name]) => {
      const p = this.pending.get(name);
      return p ? [{ name, p }] : [];
    });
    this.pending = new Map();
    this.bytes = 0;
    return (async () => {
      const times: TableTimes = {};
      for (const { name, p } of batches) {
        const started = performance.now();
        await this.session.copy(p.shape.statement, [
          COPY_BINARY_HEADER,
          ...p.parts,
          p.writer.take(),
          COPY_BINARY_TRAILER,
        ]);
        times[name] = { rows: p.rows, seconds: (performance.now() - started) / 1000 };
      }
      return times;
    })();
  }
}
