import { describe, expect, it } from "vitest";
import { Random } from "../src/seed/random.js";

// The seed's embeddings are unit vectors of Gaussian noise (src/seed/random.ts, drawn by the
// ziggurat of src/seed/ziggurat.ts). Recall figures and the bench's cluster structure assume the
// noise is standard normal, tails included: the ziggurat's rare paths (its base's tail beyond 3.65,
// the wedges between each layer and the curve) are where a slip hides, so the checks look at the
// variance and the tails, not only the mean. Fixed seeds: the figures are the same on every run;
// each bound is 3-5 standard errors wide (accepting every wedge point, say, moves the variance to
// 1.007, six standard errors out).

/**
 * Normals as the seed draws them, read through around(): scattered by sigma = 1e-6 around the
 * first axis, every other component is sigma times a draw (divided by a length 1 + 4e-10).
 */
function normals(seed: number, vectors: number): number[] {
  const random = new Random(seed);
  const axis = Array.from({ length: 768 }, (_, i) => (i === 0 ? 1 : 0));
  const out: number[] = [];
  for (let v = 0; v < vectors; v++) {
    const w = random.around(axis, 1e-6);
    for (let i = 1; i < w.length; i++) out.push(w[i]! / 1e-6);
  }
  return out;
}

describe("seed random: the embeddings' noise", () => {
  const xs = normals(11, 2_000); // 1,534,000 draws
  const share = (test: (x: number) => boolean) => xs.filter(test).length / xs.length;

  it("is unit vectors in 768 dimensions", () => {
    const v = new Random(3).unitVector();
    expect(v).toHaveLength(768);
    expect(Math.hypot(...v)).toBeCloseTo(1, 12);
  });

  it("is standard normal: mean 0, variance 1, kurtosis 3", () => {
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + x * x, 0) / xs.length;
    const kurtosis = xs.reduce((s, x) => s + x ** 4, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.004); // standard error 0.0008
    expect(Math.abs(variance - 1)).toBeLessThan(0.004); // 0.0011
    expect(Math.abs(kurtosis - 3)).toBeLessThan(0.03); // 0.008
  });

  it("has the normal's shares within 1, 2 and 3, and beyond the ziggurat's tail at 3.65 on each side", () => {
    expect(Math.abs(share((x) => Math.abs(x) < 1) - 0.682689)).toBeLessThan(0.0015);
    expect(Math.abs(share((x) => Math.abs(x) < 2) - 0.9545)).toBeLessThan(0.0008);
    expect(Math.abs(share((x) => Math.abs(x) > 3) - 0.0027)).toBeLessThan(0.0002);
    // P(x > 3.6542) = 1.29e-4 per side: ~198 of the draws each.
    for (const side of [1, -1]) {
      const beyond = share((x) => side * x > 3.654152885361008);
      expect(beyond).toBeGreaterThan(0.9e-4);
      expect(beyond).toBeLessThan(1.7e-4);
    }
  });

  it("scatters around a centre at the cosine sigma gives: about 1 / sqrt(1 + 768 sigma²)", () => {
    const random = new Random(5);
    const centre = random.unitVector();
    for (const sigma of [0.012, 0.05]) {
      const cosines = Array.from({ length: 200 }, () =>
        random.around(centre, sigma).reduce((s, x, i) => s + x * centre[i]!, 0),
      );
      const mean = cosines.reduce((s, c) => s + c, 0) / cosines.length;
      expect(mean).toBeCloseTo(1 / Math.sqrt(1 + 768 * sigma * sigma), 2);
    }
  });
});
