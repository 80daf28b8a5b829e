import assert from "node:assert/strict";
import { WaitQueue } from "./wait_queue.ts";

Deno.test("WaitQueue.wakeNext() wakes the oldest waiter first", async () => {
  const queue = new WaitQueue();
  const woken: string[] = [];
  const far = Date.now() + 60_000;
  const first = queue.wait(far).then(() => woken.push("first"));
  const second = queue.wait(far).then(() => woken.push("second"));
  assert.equal(queue.length, 2);
  queue.wakeNext();
  await first;
  assert.deepEqual(woken, ["first"]);
  assert.equal(queue.length, 1);
  queue.wakeNext();
  await second;
  assert.deepEqual(woken, ["first", "second"]);
});

Deno.test("WaitQueue.wait() ends at its deadline and leaves the queue", async () => {
  const queue = new WaitQueue();
  await queue.wait(Date.now() + 5);
  assert.equal(queue.length, 0);
  queue.wakeNext(); // nobody waits: nothing happens
});
