import assert from "node:assert/strict";
import { SingleFlight } from "./single_flight.ts";

Deno.test("SingleFlight.run() lets callers of one key join the running computation, then runs afresh", async () => {
  const flights = new SingleFlight<number>();
  let runs = 0;
  let finish!: (value: number) => void;
  const compute = () => {
    runs++;
    return new Promise<number>((resolve) => finish = resolve);
  };
  const first = flights.run("a", compute);
  const joined = flights.run("a", compute);
  const other = flights.run("b", () => Promise.resolve(7));
  assert.equal(runs, 1, "the second caller of a joined the first");
  finish(42);
  assert.deepEqual(await Promise.all([first, joined, other]), [42, 42, 7]);
  const later = flights.run("a", compute);
  assert.equal(runs, 2, "a caller after the end starts a new computation");
  finish(43);
  assert.equal(await later, 43);
});

Deno.test("SingleFlight.run() gives every joined caller the failure, and the next caller a new try", async () => {
  const flights = new SingleFlight<string>();
  let fail!: (error: Error) => void;
  const failing = flights.run("k", () => new Promise<string>((_, reject) => fail = reject));
  const joined = flights.run("k", () => Promise.resolve("never"));
  fail(new Error("EIO"));
  await assert.rejects(failing, /EIO/);
  await assert.rejects(joined, /EIO/);
  assert.equal(await flights.run("k", () => Promise.resolve("ok")), "ok");
});
