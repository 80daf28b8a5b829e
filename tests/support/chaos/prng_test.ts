import assert from "node:assert/strict";
import { Prng } from "./prng.ts";

Deno.test("Prng.next() repeats for a seed and differs between seeds", () => {
  const draw = (seed: number) => {
    const prng = new Prng(seed);
    return Array.from({ length: 20 }, () => prng.next());
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  assert.ok(draw(7).every((x) => x >= 0 && x < 1));
});
