import assert from "node:assert/strict";
import type { MountInfo } from "../mount/mountinfo.ts";
import { RecentMountInfo } from "./recent_mount_info.ts";

function counter() {
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    read: () => Promise.resolve([{ id: ++reads } as unknown as MountInfo]),
  };
}

Deno.test("RecentMountInfo.get() shares one read among the calls of a short while", async () => {
  let now = 0;
  const c = counter();
  const recent = new RecentMountInfo(c.read, 1000, () => now);
  const [a, b] = await Promise.all([recent.get(), recent.get()]);
  assert.equal(a, b);
  now = 999;
  await recent.get();
  assert.equal(c.reads, 1);
  now = 1000;
  assert.equal((await recent.get())[0].id, 2);
});

Deno.test("RecentMountInfo.get() reads again once a mount change ends", async () => {
  const c = counter();
  const recent = new RecentMountInfo(c.read, 60_000);
  await recent.get();
  let release!: () => void;
  const change = recent.changing(() => new Promise<void>((resolve) => release = resolve));
  await recent.get();
  await recent.get(); // not kept while the change runs
  assert.equal(c.reads, 3);
  release();
  await change;
  assert.equal((await recent.get())[0].id, 4);
  await recent.get();
  assert.equal(c.reads, 4);
});

Deno.test("RecentMountInfo.get() keeps no failed read", async () => {
  let fail = true;
  const recent = new RecentMountInfo(() => {
    return fail ? Promise.reject(new Error("EIO")) : Promise.resolve([]);
  });
  await assert.rejects(recent.get(), /EIO/);
  fail = false;
  assert.deepEqual(await recent.get(), []);
});
