import assert from "node:assert/strict";
import { shrink } from "./shrink.ts";
import type { ChaosFailure } from "./runner.ts";

/** A fake run: fails at the first "publish 2 0" after an "evict fs1" (like a real replay, it stops there). */
function fakeReplay(sequence: readonly string[]) {
  const evicted = sequence.indexOf("evict fs1");
  const at = evicted < 0 ? -1 : sequence.indexOf("publish 2 0", evicted);
  const failure: ChaosFailure | undefined = at < 0
    ? undefined
    : { step: at, op: sequence[at], message: "broken" };
  return Promise.resolve({ failure, executed: at < 0 ? [...sequence] : sequence.slice(0, at + 1) });
}

Deno.test("shrink() finds the shortest failing sequence", async () => {
  const run = [
    "stage 0",
    "stage 2",
    "publish 0 1",
    "mgs-down 0",
    "evict fs2",
    "evict fs1",
    "mgs-up",
    "publish 0 2",
    "unpublish 0 1",
    "publish 2 0",
    "unstage 0",
    "restart",
  ];
  const first = await fakeReplay(run);
  const shortest = await shrink(first.executed, first.failure!, fakeReplay, 60_000);
  assert.deepEqual(shortest, ["evict fs1", "publish 2 0"]);
});

Deno.test("shrink() returns the input when nothing shorter fails", async () => {
  const run = ["evict fs1", "publish 2 0"];
  const first = await fakeReplay(run);
  assert.deepEqual(await shrink(run, first.failure!, fakeReplay, 60_000), run);
});
