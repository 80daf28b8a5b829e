import assert from "node:assert/strict";
import { median, percentile, summarize } from "./stats.ts";

Deno.test("percentile() takes the nearest rank", () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 99), 99);
  assert.equal(percentile(samples, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 2, 3], 50), 2);
});

Deno.test("percentile() refuses no samples and percentiles outside (0, 100]", () => {
  assert.throws(() => percentile([], 50), RangeError);
  assert.throws(() => percentile([1], 0), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
});

Deno.test("summarize() rounds to a tenth of a millisecond", () => {
  assert.deepEqual(summarize([1.04, 2.06, 3, 10]), {
    n: 4,
    p50Ms: 2.1,
    p99Ms: 10,
    maxMs: 10,
    meanMs: 4,
  });
  assert.equal(median([3, 1, 2]), 2);
});
