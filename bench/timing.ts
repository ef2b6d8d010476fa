/** Latency samples in milliseconds and what the report needs from them. */
export interface Latency {
  p50_ms: number;
  p95_ms: number;
  mean_ms: number;
  qps: number;
  samples: number;
}

export async function measure(
  samples: number,
  run: (i: number) => Promise<unknown>,
  warmup = Math.min(5, samples),
): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await run(i);
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  return summarise(times);
}

export function summarise(times: number[]): Latency {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    p50_ms: round(at(0.5)),
    p95_ms: round(at(0.95)),
    mean_ms: round(mean),
    qps: round(1000 / mean, 1),
    samples: times.length,
  };
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Times two variants alternately so that drift (caches warming, the machine's other load) falls
 * on both alike; what is left is the difference between them. Which one goes first swaps every
 * sample: the second run of the same query finds its pages cached, and that must not always be
 * the same variant.
 */
export async function measurePair(
  samples: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>,
): Promise<[Latency, Latency]> {
  for (let i = 0; i < 10; i++) {
    await a(i);
    await b(i);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  const time = async (f: (i: number) => Promise<unknown>, i: number, into: number[]) => {
    const t = performance.now();
    await f(i);
    into.push(performance.now() - t);
  };
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      await time(a, i, ta);
      await time(b, i, tb);
    } else {
      await time(b, i, tb);
      await time(a, i, ta);
    }
  }
  return [summarise(ta), summarise(tb)];
}
