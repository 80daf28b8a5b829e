import assert from "node:assert/strict";
import {
  decodePolicy,
  encodePolicy,
  fromHex,
  FscryptTimeoutError,
  type FscryptWorkerLike,
  isExpectedPolicy,
  toHex,
  WorkerFscrypt,
} from "./fscrypt.ts";

const ID = "00112233445566778899aabbccddeeff";

Deno.test("encodePolicy() builds struct fscrypt_policy_v2 that decodePolicy() reads back", () => {
  const bytes = encodePolicy(ID);
  assert.equal(bytes.length, 24);
  assert.deepEqual([...bytes.subarray(0, 8)], [2, 1, 4, 3, 0, 0, 0, 0]);
  const policy = decodePolicy(bytes);
  assert.equal(policy.identifier, ID);
  assert.ok(isExpectedPolicy(policy));
  assert.ok(!isExpectedPolicy({ ...policy, contentsMode: 9 }));
});

Deno.test("fromHex() refuses what is not hex of whole bytes", () => {
  assert.equal(toHex(fromHex(ID)), ID);
  assert.throws(() => fromHex("abc"), /Not a hex string/);
  assert.throws(() => fromHex("zz"), /Not a hex string/);
});

Deno.test("WorkerFscrypt gives up on a call that does not answer and ends its worker", async () => {
  let terminated = false;
  let posted: unknown;
  const hung: FscryptWorkerLike = {
    postMessage: (message) => posted = message,
    onmessage: null,
    onerror: null,
    terminate: () => terminated = true,
  };
  const fscrypt = new WorkerFscrypt({ timeoutMs: 50, createWorker: () => hung });
  const key = new Uint8Array(64).fill(7);
  await assert.rejects(
    fscrypt.addKey("/mnt/fs/vol", key),
    (e) => e instanceof FscryptTimeoutError && /did not answer within 50 ms/.test(e.message),
  );
  assert.ok(terminated);
  assert.ok(key.every((b) => b === 0), "the caller's copy is zeroed");
  assert.equal((posted as { op: string }).op, "addKey");
});
