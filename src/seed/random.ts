import { EMBEDDING_DIMENSIONS } from "../schema/columns.js";

const HEX = "0123456789abcdef";

/**
 * A small deterministic PRNG (mulberry32): the same --seed gives the same data set on any
 * machine, so benchmark runs and bug reports can be reproduced.
 */
export class Random {
  // Kept as a signed 32-bit integer, which V8 stores unboxed (an unsigned one above 2^31 is a
  // heap number: one allocation per draw, ~800 per embedding). The bits, and so every value, are
  // those of the unsigned form.
  private state: number;
  /** The second value of the last Box-Muller pair; NaN for none (a number field, never boxed). */
  private spare = NaN;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  gaussian(): number {
    if (this.spare === this.spare) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
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
    return normalise(Array.from({ length: EMBEDDING_DIMENSIONS }, () => this.gaussian()));
  }

  /**
   * A unit vector scattered around `centre`. With per-dimension noise sigma, the expected cosine
   * to the centre is about 1 / sqrt(1 + 768 sigma^2): 0.05 gives ~0.79, 0.02 ~0.96.
   */
  around(centre: number[], sigma: number): number[] {
    // Plain loops, not map/reduce: the same operations in the same order (so the same values),
    // at a fraction of the cost; the seed draws two such vectors per document.
    const v = new Array<number>(centre.length);
    for (let i = 0; i < centre.length; i++) v[i] = centre[i]! + sigma * this.gaussian();
    return normaliseInPlace(v);
  }
}

/** `v` divided by its length, in place (one array less per vector for the garbage collector). */
function normaliseInPlace(v: number[]): number[] {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const n = Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / n;
  return v;
}

function normalise(v: number[]): number[] {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const n = Math.sqrt(sum);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

/** pgvector's text form, with 5 decimals: enough for cosine ranking, a third of the bytes of full doubles. */
export function vectorLiteral(v: number[]): string {
  return `[${v.map((x) => x.toFixed(5)).join(",")}]`;
}
