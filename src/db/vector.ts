/**
 * A query parameter holding a pgvector `vector`, in the form cheapest for the driver.
 *
 * node-postgres sends a Buffer parameter in binary, which pgvector reads with `vector_recv`: a
 * 768-float embedding then costs a few microseconds to encode, where formatting 768 decimal
 * numbers (`pgvector.toSql`) takes ~100-300 µs here, and the server skips parsing them. The
 * vector is the same: pgvector stores float4, and rounding a number to float4 directly or through
 * its shortest decimal text lands on the same float4 (they could part only for a double exactly
 * halfway between two float4s; a model's float32 output never is). test/function-shapes.test.ts
 * compares both forms on the server. PGlite takes text parameters only: it gets the text form.
 *
 * The SQL must cast the parameter (`$1::vector`), which makes `vector` the parameter's type.
 * Call only with numbers float4 can hold (the wrappers validate first): vector_recv refuses NaN/Infinity,
 * and writeFloatBE turns a finite number past float4's range into Infinity.
 */
export function vectorParam(values: readonly number[], binary: boolean): Buffer | string {
  if (!binary) return JSON.stringify(values);
  // vector_recv: int16 dimensions, int16 unused (0), then float4s, all big-endian.
  const buffer = Buffer.allocUnsafe(4 + 4 * values.length);
  buffer.writeInt16BE(values.length, 0);
  buffer.writeInt16BE(0, 2);
  for (let i = 0; i < values.length; i++) buffer.writeFloatBE(values[i]!, 4 + 4 * i);
  return buffer;
}
