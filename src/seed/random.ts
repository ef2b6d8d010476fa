import { EMBEDDING_DIMENSIONS } from "../schema/columns.js";

/**
 * A small deterministic PRNG (mulberry32): the same --seed gives the same data set on any
 * machine, so benchmark runs and bug reports can be reproduced.
 */
export class Random {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
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
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
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
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16));
    hex[12] = "4";
    hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
    const h = hex.join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
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
    return normalise(centre.map((c) => c + sigma * this.gaussian()));
  }
}

export function normalise(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

/** pgvector's text form, with 5 decimals: enough for cosine ranking, a third of the bytes of full doubles. */
export function vectorLiteral(v: number[]): string {
  return `[${v.map((x) => x.toFixed(5)).join(",")}]`;
}
