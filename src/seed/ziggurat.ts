/**
 * The tables of a 256-layer ziggurat for the standard normal (Marsaglia & Tsang, "The Ziggurat
 * Method for Generating Random Variables", 2000; the layout of Doornik's 2005 note and of Rust's
 * rand_distr). Random draws its normals from them (./random.ts).
 *
 * Why not Box-Muller: a seed at 100k documents draws 154 million normals (two 768-dim embeddings
 * per document), and Box-Muller's log, sqrt, sin and cos made that ~6 of the client's ~16 CPU
 * seconds, the larger part of a load the client bounds. The ziggurat's common case (~99% of draws)
 * is one 32-bit draw, a table lookup and a compare: ~9 ns a value against ~38 here. It also keeps
 * Math.sin and Math.cos out of the data, which the language lets an engine approximate as it likes.
 */

/** Where the base layer's tail begins. */
export const ZIGGURAT_R = 3.654152885361008796;
/** The area of each layer (and of the base with its tail). */
const AREA = 0.00492867323399;

/** The unnormalised density, exp(-x²/2). */
export const density = (x: number): number => Math.exp(-0.5 * x * x);

/**
 * x[i] is layer i's right edge, from x[0] (the base's width: its tail's area spread over a
 * rectangle) down to x[256] = 0 at the top; f[i] is the density at x[i].
 */
export function zigguratTables(): { x: Float64Array; f: Float64Array } {
  const x = new Float64Array(257);
  const f = new Float64Array(257);
  x[0] = AREA / density(ZIGGURAT_R);
  x[1] = ZIGGURAT_R;
  for (let i = 2; i < 256; i++) x[i] = Math.sqrt(-2 * Math.log(AREA / x[i - 1]! + density(x[i - 1]!)));
  x[256] = 0;
  for (let i = 0; i < 257; i++) f[i] = density(x[i]!);
  return { x, f };
}
