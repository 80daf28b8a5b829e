import assert from "node:assert/strict";
import { Code, CsiError } from "../csi/csi_error.ts";
import { FsLock } from "./fs_lock.ts";
import { tempDir } from "../../tests/support/driver.ts";

const options = { leaseMs: 60_000, waitMs: 5_000, timeoutMs: 5_000, owner: "test" };

Deno.test("FsLock.run() lets one holder in at a time, across lock objects", async () => {
  await using temp = await tempDir("klustre-lock-");
  const dir = temp.path;
  const path = `${dir}/locks/volumes.lock`;
  let inside = 0;
  let most = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    // One object per "process": nothing in memory is shared.
    await new FsLock(path, options).run(async () => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 10));
      inside--;
    });
  }));
  assert.equal(most, 1);
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound, "released after the last call");
});

Deno.test("FsLock.run() takes over a crashed holder's lock once its lease passed, and waits for a live one", async () => {
  await using temp = await tempDir("klustre-lock-");
  const dir = temp.path;
  const path = `${dir}/volumes.lock`;
  let clock = 1_000_000;
  await Deno.writeTextFile(
    path,
    JSON.stringify({ token: "dead", owner: "crashed", expiresAt: clock + 1000 }),
  );
  const live = new FsLock(path, { ...options, waitMs: 50, now: () => clock });
  const refused = await live.run(() => Promise.resolve()).catch((e) => e);
  assert.ok(refused instanceof CsiError);
  assert.equal(refused.code, Code.ABORTED);
  assert.match(refused.message, /held by crashed/);
  clock += 2000;
  assert.equal(await live.run(() => Promise.resolve("ran")), "ran");
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
});

Deno.test("FsLock.run() renews the lease of a holder that works longer than it", async () => {
  await using temp = await tempDir("klustre-lock-");
  const dir = temp.path;
  const path = `${dir}/volumes.lock`;
  const holder = new FsLock(path, { ...options, leaseMs: 600 });
  const other = new FsLock(path, { ...options, leaseMs: 600, waitMs: 60_000 });
  const order: string[] = [];
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => entered = resolve);
  const long = holder.run(async () => {
    entered();
    // Three leases long: without renewal the other would take the lock over meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    order.push("holder done");
  });
  await inside;
  await other.run(() => {
    order.push("other in");
    return Promise.resolve();
  });
  await long;
  assert.deepEqual(order, ["holder done", "other in"]);
});

Deno.test("FsLock.run() never takes over a lock file that exists but is still empty (being written)", async () => {
  await using temp = await tempDir("klustre-lock-");
  const dir = temp.path;
  const path = `${dir}/volumes.lock`;
  // What another process's lock file looks like between its creation and its write.
  await Deno.writeTextFile(path, "");
  await assert.rejects(
    new FsLock(path, { ...options, waitMs: 300 }).run(() => Promise.resolve()),
    (error: unknown) => error instanceof CsiError && error.code === Code.ABORTED,
  );
  assert.equal(await Deno.readTextFile(path), "", "the file is left to its writer");
});
