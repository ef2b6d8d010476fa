import { EMBEDDING_DIMENSIONS } from "../schema/columns.js";
import { ZIGGURAT_R, density, zigguratTables } from "./ziggurat.js";

const HEX = "0123456789abcdef";
// Module-local constants, not imported bindings: read on every draw, an imported binding cost
// 3-4x the whole draw under tsx (~50 ns against ~13).
const { x: ZIGGURAT_X, f: ZIGGURAT_F } = zigguratTables();

/**
 * A small deterministic PRNG (mulberry32): the same --seed gives the same data set on any
 * machine, so benchmark runs and bug reports can be reproduced.
 */
export class Random {
  // Kept as a signed 32-bit integer, which V8 stores unboxed (an unsigned one above 2^31 is a
  // heap number: one allocation per draw, ~800 per embedding). The bits, and so every value, are
  // those of the unsigned form.
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.bits() / 4294967296;
  }

  /** Uniform 32 bits, as an unsigned integer. */
  private bits(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /**
   * The ziggurat's rare cases (~1% of draws), from a draw `b` whose point fell outside its layer's
   * core: the base's tail, or the wedge between the core and the curve; a point the wedge rejects
   * is drawn again, from the top.
   */
  private rareNormal(b: number): number {
    for (;;) {
      const layer = b & 255;
      const x = layerPoint(b);
      if (Math.abs(x) < ZIGGURAT_X[layer + 1]!) return x;
      if (layer === 0) return this.tail(x < 0);
      const below = ZIGGURAT_F[layer + 1]!;
      if (below + (ZIGGURAT_F[layer]! - below) * this.next() < density(x)) return x;
      b = this.bits();
    }
  }

  /** Beyond ZIGGURAT_R (Marsaglia's tail method), on the given side. */
  private tail(negative: boolean): number {
    let x: number;
    let y: number;
    do {
      x = Math.log(1 - this.next()) / ZIGGURAT_R;
      y = Math.log(1 - this.next());
    } while (-2 * y < x * x);
    return negative ? x - ZIGGURAT_R : ZIGGURAT_R - x;
  }

  /**
   * A unit vector: `centre` (the origin in 768 dimensions when absent) plus sigma times a standard
   * normal in each dimension, normalised. The normals come from the ziggurat (./ziggurat.ts): one
   * 32-bit draw picks a layer (its low 8 bits) and a point across it (the other 24, signed), and
   * inside the layer's core that point is the value. The common case is inlined here with the
   * generator's state in a local (mulberry32, as bits() draws it): through this.state and a call
   * per value the same draws cost 2.3x (18 µs a vector against 7.7).
   */
  private scatter(centre: readonly number[] | null, sigma: number): number[] {
    const dimensions = centre ? centre.length : EMBEDDING_DIMENSIONS;
    const v = new Array<number>(dimensions);
    let state = this.state;
    let sum = 0;
    for (let i = 0; i < dimensions; i++) {
      let t = (state = (state + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const b = (t ^ (t >>> 14)) >>> 0;
      let normal = layerPoint(b);
      if (!(Math.abs(normal) < ZIGGURAT_X[(b & 255) + 1]!)) {
        this.state = state;
        normal = this.rareNormal(b);
        state = this.state;
      }
      const e = (centre ? centre[i]! : 0) + sigma * normal;
      v[i] = e;
      sum += e * e;
    }
    this.state = state;
    const length = Math.sqrt(sum);
    for (let i = 0; i < dimensions; i++) v[i] = v[i]! / length;
    return v;
  }

  /** A version-4-shaped UUID from this generator (deterministic, unlike crypto.randomUUID). */
  uuid(): string {
    // 32 random hex digits, then the version (4) and variant bits set: built in one pass, as the
    // seed draws several per row.
    let s = "";
    for (let i = 0; i < 32; i++) {
      let digit = Math.floor(this.next() * 16);
      if (i === 12) digit = 4;
      else if (i === 16) digit = (digit & 0x3) | 0x8;
      s += HEX[digit];
      if (i === 7 || i === 11 || i === 15 || i === 19) s += "-";
    }
    return s;
  }

  /** A random unit vector: a topic centre. */
  unitVector(): number[] {
    return this.scatter(null, 1);
  }

  /**
   * A unit vector scattered around `centre`. With per-dimension noise sigma, the expected cosine
   * to the centre is about 1 / sqrt(1 + 768 sigma^2): 0.05 gives ~0.79, 0.02 ~0.96.
   */
  around(centre: readonly number[], sigma: number): number[] {
    return this.scatter(centre, sigma);
  }
}

/** Where draw `b` falls across its layer (b's low 8 bits): its upper 24 bits, signed, times the layer's width. */
const layerPoint = (b: number): number => ((b >>> 8) / 8388608 - 1) * ZIGGURAT_X[b & 255]!;

/** pgvector's text form, with 5 decimals: enough for cosine ranking, a third of the bytes of full doubles. */
export function vectorLiteral(v: number[]): string {
  return `[${v.map((x) => x.toFixed(5)).join(",")}]`;
}
