import assert from "node:assert/strict";
import { FreshRead } from "./fresh_read.ts";

/** A load whose calls finish when the test says so. */
function gatedLoad() {
  const pending: ((value: number) => void)[] = [];
  let loads = 0;
  return {
    get loads() {
      return loads;
    },
    load: () => {
      loads++;
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    finish: (value: number) => pending.shift()!(value),
  };
}

Deno.test("FreshRead.read() gives a later caller a read that began after it asked, shared", async () => {
  const gate = gatedLoad();
  const fresh = new FreshRead(gate.load);
  const first = fresh.read();
  const [second, third] = [fresh.read(), fresh.read()];
  assert.equal(gate.loads, 1, "the later callers wait for the running read to end");
  gate.finish(1);
  assert.equal(await first, 1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(gate.loads, 2, "then one read starts for both");
  gate.finish(2);
  assert.deepEqual([await second, await third], [2, 2]);
  const fourth = fresh.read();
  assert.equal(gate.loads, 3, "nothing running: a read starts at once");
  gate.finish(3);
  assert.equal(await fourth, 3);
});

Deno.test("FreshRead.read() starts the next read after a failed one, and passes failures on", async () => {
  let calls = 0;
  const fresh = new FreshRead(() =>
    ++calls === 1 ? Promise.reject(new Error("EIO")) : Promise.resolve(calls)
  );
  const [a, b] = [fresh.read(), fresh.read()];
  await assert.rejects(a, /EIO/);
  assert.equal(await b, 2);
});
