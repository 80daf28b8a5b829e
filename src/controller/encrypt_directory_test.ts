import assert from "node:assert/strict";
import { Code, CsiError } from "../csi/csi_error.ts";
import type { Fscrypt, FscryptPolicy } from "../crypto/fscrypt.ts";
import { fscryptKeyIdentifier, SecretVolumeKeys } from "../kms/volume_keys.ts";
import { encryptDirectory } from "./encrypt_directory.ts";

/** fscrypt on one directory: records every call. */
function fakeFscrypt(initial: FscryptPolicy | null) {
  let policy = initial;
  const calls: string[] = [];
  const fscrypt: Fscrypt = {
    setPolicy: (_dir, id) => {
      calls.push(`set ${id}`);
      policy = { version: 2, contentsMode: 1, filenamesMode: 4, flags: 3, identifier: id };
      return Promise.resolve();
    },
    policy: () => Promise.resolve(policy),
    addKey: async (_dir, key) => {
      const id = await fscryptKeyIdentifier(key);
      calls.push(`add ${id}`);
      return id;
    },
    removeKey: (_dir, id) => {
      calls.push(`remove ${id}`);
      return Promise.resolve({ removed: true, filesBusy: false, otherUsers: false });
    },
    keyStatus: () => Promise.resolve("absent"),
  };
  return { fscrypt, calls };
}

const keys = new SecretVolumeKeys(new Uint8Array(32).fill(1));
const request = { name: "pvc-1", volumeId: "vol-1", path: "/m/k8s/pvc-1", mountPath: "/m", keys };

Deno.test("encryptDirectory() adds the key, sets the policy, removes the key; a retry changes nothing", async () => {
  const fake = fakeFscrypt(null);
  const id = await encryptDirectory(fake.fscrypt, request);
  assert.equal(id, await fscryptKeyIdentifier(await keys.fetch("vol-1")));
  assert.deepEqual(fake.calls, [`add ${id}`, `set ${id}`, `remove ${id}`]);
  assert.equal(await encryptDirectory(fake.fscrypt, request), id);
  assert.equal(fake.calls.length, 3, "the policy is there: nothing to do");
});

Deno.test("encryptDirectory() refuses a directory encrypted with another key", async () => {
  const other = {
    version: 2,
    contentsMode: 1,
    filenamesMode: 4,
    flags: 3,
    identifier: "e".repeat(32),
  };
  const fake = fakeFscrypt(other);
  await assert.rejects(
    encryptDirectory(fake.fscrypt, request),
    (e) =>
      e instanceof CsiError && e.code === Code.FAILED_PRECONDITION &&
      /pvc-1.*e{32}/.test(e.message),
  );
  assert.deepEqual(fake.calls, []);
});
