import assert from "node:assert/strict";
import { parseCpuSeconds } from "./stats_scale.ts";

Deno.test("parseCpuSeconds() adds utime and stime, also when the name holds spaces", () => {
  const stat = "4242 (deno worker) S 1 4242 4242 0 -1 4194560 9000 0 0 0 150 75 0 0 20 0 9 0";
  assert.equal(parseCpuSeconds(stat), 2.25);
});
