/** Latency summaries: percentiles by the nearest-rank method. */

/** n, p50, p99, max and mean of a set of durations, in milliseconds. */
export interface LatencySummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * The nearest-rank percentile `p` (0-100] of `samples`.
 * @throws RangeError for no samples or p outside (0, 100]
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError("No samples");
  if (!(p > 0 && p <= 100)) throw new RangeError(`Percentile ${p} is not in (0, 100]`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1];
}

/** Summarises durations, rounded to 0.1 ms. */
export function summarize(samples: readonly number[]): LatencySummary {
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    n: samples.length,
    p50Ms: round(percentile(samples, 50)),
    p99Ms: round(percentile(samples, 99)),
    maxMs: round(Math.max(...samples)),
    meanMs: round(samples.reduce((a, b) => a + b, 0) / samples.length),
  };
}

/** The median of a few runs. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}
