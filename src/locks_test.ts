import assert from "node:assert/strict";
import { LockBusyError, LockTable } from "./locks.ts";

Deno.test("LockTable.acquire() refuses a busy key at once and frees it on release", () => {
  const locks = new LockTable();
  const lease = locks.acquire(["path:/a"]);
  assert.throws(() => locks.acquire(["path:/a"]), LockBusyError);
  assert.throws(() => locks.acquire(["path:/b", "path:/a"]), LockBusyError);
  assert.equal(locks.size, 1, "a refused multi-key acquire takes nothing");
  lease.release();
  lease.release();
  assert.equal(locks.size, 0);
  using again = locks.acquire(["path:/a", "path:/b"]);
  assert.equal(locks.size, 2);
  void again;
});
