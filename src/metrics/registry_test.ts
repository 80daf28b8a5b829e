import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry } from "./registry.ts";

Deno.test("Counter.inc() adds per label set and refuses to go down", () => {
  const counter = new Counter("x_total", "X", ["method"]);
  counter.inc({ method: "a" });
  counter.inc({ method: "a" }, 2);
  counter.inc({ method: "b" });
  assert.equal(counter.value({ method: "a" }), 3);
  assert.equal(counter.value({ method: "b" }), 1);
  assert.throws(() => counter.inc({ method: "a" }, -1), RangeError);
});

Deno.test("Counter.inc() refuses labels the family does not take", () => {
  const counter = new Counter("x_total", "X", ["method"]);
  assert.throws(() => counter.inc({}), /takes labels \[method\]/);
  assert.throws(() => counter.inc({ method: "a", code: "OK" }), TypeError);
  assert.throws(() => counter.inc({ code: "OK" }), TypeError);
});

Deno.test("Gauge.set() and Gauge.inc() move the value; reset() drops every series", () => {
  const gauge = new Gauge("g", "G", ["fs"]);
  gauge.set({ fs: "a" }, 5);
  gauge.inc({ fs: "a" }, -2);
  assert.equal(gauge.value({ fs: "a" }), 3);
  gauge.reset();
  assert.deepEqual(gauge.samples(), []);
});

Deno.test("Histogram.observe() fills cumulative buckets, sum and count", () => {
  const histogram = new Histogram("d_seconds", "D", { labelNames: ["m"], buckets: [0.1, 1] });
  for (const value of [0.05, 0.5, 0.7, 3]) histogram.observe({ m: "x" }, value);
  const lines = histogram.samples().map((s) => `${s.name} ${s.labels.le ?? ""} ${s.value}`);
  assert.deepEqual(lines, [
    "d_seconds_bucket 0.1 1",
    "d_seconds_bucket 1 3",
    "d_seconds_bucket +Inf 4",
    "d_seconds_sum  4.25",
    "d_seconds_count  4",
  ]);
  assert.deepEqual(histogram.totals({ m: "x" }), { count: 4, sum: 4.25 });
});

Deno.test("Histogram() refuses buckets that do not increase", () => {
  assert.throws(() => new Histogram("h", "H", { buckets: [1, 1] }), RangeError);
});

Deno.test("Registry.expose() runs collectors first and refuses duplicate names", async () => {
  const registry = new Registry();
  const gauge = registry.register(new Gauge("mounts", "Mounts"));
  registry.onCollect(() => gauge.set({}, 7));
  assert.equal(await registry.expose(), "# HELP mounts Mounts\n# TYPE mounts gauge\nmounts 7\n");
  assert.throws(() => registry.register(new Counter("mounts", "again")), TypeError);
});
