import assert from "node:assert/strict";
import { IdleWorkers } from "./idle_workers.ts";

function worker(name: string) {
  return {
    name,
    ended: false,
    terminate() {
      this.ended = true;
    },
  };
}

Deno.test("IdleWorkers.take() gives the most recently idle worker", () => {
  const idle = new IdleWorkers<ReturnType<typeof worker>>(60_000);
  const [a, b] = [worker("a"), worker("b")];
  idle.put(a);
  idle.put(b);
  assert.equal(idle.take(), b);
  assert.equal(idle.take(), a);
  assert.equal(idle.take(), undefined);
  idle.clear();
});

Deno.test("IdleWorkers.sweep() ends the workers idle too long, and only them", () => {
  let now = 0;
  const idle = new IdleWorkers<ReturnType<typeof worker>>(1000, () => now);
  const [a, b] = [worker("a"), worker("b")];
  idle.put(a);
  now = 600;
  idle.put(b);
  now = 1000;
  idle.sweep();
  assert.deepEqual([a.ended, b.ended], [true, false]);
  assert.equal(idle.length, 1);
  idle.clear();
  assert.ok(b.ended, "clear() ends the rest");
});

Deno.test("IdleWorkers ends an idle worker by itself after its idle time", async () => {
  const idle = new IdleWorkers<ReturnType<typeof worker>>(20);
  const a = worker("a");
  idle.put(a);
  for (let i = 0; i < 200 && !a.ended; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(a.ended);
  assert.equal(idle.length, 0);
  idle.clear();
});
