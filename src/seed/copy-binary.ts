/**
 * PostgreSQL's binary COPY format (https://www.postgresql.org/docs/15/sql-copy.html, "Binary
 * Format"): a header, then per row an int16 field count and per field an int32 byte length (-1
 * for NULL) followed by the value in its type's binary "send" form, then an int16 -1 trailer. All
 * integers are big-endian (network order). The server parses this with each type's `recv`
 * function, which costs a fraction of parsing text: for a 768-float embedding the text form is
 * ~6 KB the client formats and the server parses digit by digit, the binary form 3 KB of floats
 * copied as they are.
 */

/** `PGCOPY\n\377\r\n\0`, then int32 flags (0: no OIDs) and int32 header-extension length (0). */
export const COPY_BINARY_HEADER: Buffer = Buffer.concat([Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), Buffer.alloc(8)]);
export const COPY_BINARY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

/** Writes one field's value (never null: the row writer handles NULL) in its type's binary form. */
export type FieldEncoder = (w: CopyBinaryWriter, value: unknown) => void;

/** Each character code's value as a hex digit, -1 for any other (codes past 127 read undefined). */
const HEX_VALUE = Int8Array.from({ length: 128 }, (_, code) => {
  const c = String.fromCharCode(code);
  return /[0-9a-f]/i.test(c) ? parseInt(c, 16) : -1;
});

/** PostgreSQL's epoch for timestamps, 2000-01-01T00:00:00Z, in Unix milliseconds. */
const PG_EPOCH_MS = 946_684_800_000;
/** pg_type OIDs array_recv checks an array's element type against. */
const ELEMENT_OID = { text: 25 } as const;

/**
 * Appends rows in binary COPY format to a growing buffer; `take()` hands over what is written so
 * far (to stream it to the server) and starts afresh. One writer per COPY statement:
 * `header()`, rows, `trailer()`.
 *
 * ```ts
 * const w = new CopyBinaryWriter().header();
 * w.row([id, "Biology", [0.1, 0.2]], [encoders.uuid, encoders.text, encoders.vector]);
 * stream.write(w.trailer().take());
 * ```
 */
export class CopyBinaryWriter {
  private buf: Buffer;
  private view: DataView;
  private at = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.at;
  }

  header(): this {
    return this.bytes(COPY_BINARY_HEADER);
  }

  trailer(): this {
    return this.bytes(COPY_BINARY_TRAILER);
  }

  /** One row: `values[i]` written by `encoders[i]`, `null`/`undefined` as SQL NULL. */
  row(values: readonly unknown[], encoders: readonly FieldEncoder[]): this {
    this.int16(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) this.int32(-1);
      else encoders[i]!(this, v);
    }
    return this;
  }

  /** What was written since the last take, as its own Buffer (the writer's memory is not reused). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.at);
    this.buf = Buffer.allocUnsafe(Math.max(this.buf.length, 64 * 1024));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.at = 0;
    return out;
  }

  // Field writers: each writes the int32 length, then the value.

  /**
   * The 16 bytes of a UUID in its hyphenated form (or 32 bare hex digits), parsed digit by digit:
   * several per row, so no slicing, regex or hex-string write (~6% of the seed's client CPU).
   */
  uuid(value: string): void {
    const hyphens = value.length === 36;
    if (!hyphens && value.length !== 32) throw new TypeError(`not a UUID: ${value}`);
    this.ensure(20);
    this.int32(16);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < value.length; i += 2) {
      if (hyphens && (i === 8 || i === 13 || i === 18 || i === 23)) {
        if (value.charCodeAt(i) !== 45) throw new TypeError(`not a UUID: ${value}`);
        i++;
      }
      const high = HEX_VALUE[value.charCodeAt(i)] ?? -1;
      const low = HEX_VALUE[value.charCodeAt(i + 1)] ?? -1;
      if (high < 0 || low < 0) throw new TypeError(`not a UUID: ${value}`);
      buf[at++] = (high << 4) | low;
    }
    this.at = at;
  }

  /** text, varchar and enum labels (enum_recv takes the label's text). */
  text(value: string): void {
    this.ensure(4 + value.length * 3);
    const written = this.buf.write(value, this.at + 4, "utf8");
    this.view.setInt32(this.at, written);
    this.at += 4 + written;
  }

  bool(value: boolean): void {
    this.ensure(5);
    this.int32(1);
    this.buf[this.at++] = value ? 1 : 0;
  }

  int2(value: number): void {
    this.ensure(6);
    this.int32(2);
    this.int16(checkInteger(value, -32768, 32767, "smallint"));
  }

  int4(value: number): void {
    this.ensure(8);
    this.int32(4);
    this.int32(checkInteger(value, -2147483648, 2147483647, "integer"));
  }

  int8(value: number | bigint): void {
    this.ensure(12);
    this.int32(8);
    this.view.setBigInt64(
      this.at,
      typeof value === "bigint"
        ? value
        : BigInt(checkInteger(value, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, "bigint")),
    );
    this.at += 8;
  }

  /** real: the nearest float4, as a text literal of the same number would give. */
  float4(value: number): void {
    this.ensure(8);
    this.int32(4);
    this.view.setFloat32(this.at, value);
    this.at += 4;
  }

  float8(value: number): void {
    this.ensure(12);
    this.int32(8);
    this.view.setFloat64(this.at, value);
    this.at += 8;
  }

  /**
   * numeric's send form: int16 ndigits, int16 weight, int16 sign, int16 dscale, then ndigits
   * base-10000 digits, the first worth 10000^weight. A column's typmod (numeric(5, 2)) is
   * applied by the server on receipt, as for a text literal. Plain decimals only ("-12.5", 37).
   */
  numeric(value: number | string): void {
    const text = typeof value === "number" ? String(value) : value;
    const match = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(text);
    if (!match) throw new TypeError(`not a plain decimal number for numeric: ${text}`);
    const [, sign, whole, fraction = ""] = match;
    const intPart = whole!.padStart(Math.ceil(whole!.length / 4) * 4, "0");
    const fracPart = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, "0");
    const digits: number[] = [];
    for (let i = 0; i < intPart.length + fracPart.length; i += 4)
      digits.push(Number((intPart + fracPart).slice(i, i + 4)));
    let weight = intPart.length / 4 - 1;
    while (digits.length && digits[0] === 0) {
      digits.shift();
      weight--;
    }
    while (digits.length && digits.at(-1) === 0) digits.pop();
    const negative = sign === "-" && digits.length > 0;
    this.ensure(12 + digits.length * 2);
    this.int32(8 + digits.length * 2);
    this.int16(digits.length);
    this.int16(digits.length ? weight : 0);
    this.int16(negative ? 0x4000 : 0);
    this.int16(fraction.length);
    for (const d of digits) this.int16(d);
  }

  /** jsonb's send form: a version byte (1), then the JSON text. */
  jsonb(value: unknown): void {
    const json = JSON.stringify(value);
    this.ensure(5 + json.length * 3);
    const written = this.buf.write(json, this.at + 5, "utf8");
    this.view.setInt32(this.at, written + 1);
    this.buf[this.at + 4] = 1;
    this.at += 5 + written;
  }

  /** timestamptz: int64 microseconds since 2000-01-01 UTC. */
  timestamptz(value: Date): void {
    const ms = value.getTime();
    if (!Number.isFinite(ms)) throw new TypeError("invalid Date for timestamptz");
    this.ensure(12);
    this.int32(8);
    this.view.setBigInt64(this.at, BigInt(ms - PG_EPOCH_MS) * 1000n);
    this.at += 8;
  }

  /**
   * A one-dimensional text[]: int32 ndim (0 when empty), int32 has-nulls flag, int32 element
   * type OID, per dimension int32 length and int32 lower bound (1), then each element as a field.
   */
  textArray(value: readonly (string | null)[]): void {
    const start = this.at;
    this.ensure(24);
    this.at += 4; // the array's length, filled in below
    this.int32(value.length ? 1 : 0);
    this.int32(value.includes(null) ? 1 : 0);
    this.int32(ELEMENT_OID.text);
    if (value.length) {
      this.int32(value.length);
      this.int32(1);
    }
    for (const element of value) {
      if (element === null) {
        this.ensure(4);
        this.int32(-1);
      } else this.text(element);
    }
    this.view.setInt32(start, this.at - start - 4);
  }

  /**
   * pgvector's send form (vector_send / vector_recv in pgvector's src/vector.c): int16 dim, int16
   * unused (must be 0), then dim float4. The server rejects NaN and infinities, as for text.
   */
  vector(value: readonly number[]): void {
    const dim = value.length;
    this.ensure(8 + dim * 4);
    this.int32(4 + dim * 4);
    this.int16(dim);
    this.int16(0);
    const view = this.view;
    let at = this.at;
    for (let i = 0; i < dim; i++, at += 4) view.setFloat32(at, value[i]!);
    this.at = at;
  }

  // Raw writers, without a length prefix.

  private int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.at, v);
    this.at += 2;
  }

  private int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.at, v);
    this.at += 4;
  }

  private bytes(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.at);
    this.at += b.length;
    return this;
  }

  /** Room for `n` more bytes: the buffer doubles (copying what is written) when it would overflow. */
  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
  }
}

function checkInteger(v: number, min: number, max: number, type: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new TypeError(`${v} is not a ${type}`);
  return v;
}

/** The encoders by SQL type, as the column mapping (copy-columns.ts) picks them. */
export const encoders = {
  uuid: (w, v) => w.uuid(v as string),
  text: (w, v) => w.text(v as string),
  bool: (w, v) => w.bool(v as boolean),
  int2: (w, v) => w.int2(v as number),
  int4: (w, v) => w.int4(v as number),
  int8: (w, v) => w.int8(v as number | bigint),
  float4: (w, v) => w.float4(v as number),
  float8: (w, v) => w.float8(v as number),
  numeric: (w, v) => w.numeric(v as number | string),
  jsonb: (w, v) => w.jsonb(v),
  timestamptz: (w, v) => w.timestamptz(v as Date),
  textArray: (w, v) => w.textArray(v as string[]),
  vector: (w, v) => w.vector(v as number[]),
} satisfies Record<string, FieldEncoder>;
