import assert from "node:assert/strict";
import { Code, CsiError } from "../csi/csi_error.ts";
import type { Fscrypt, FscryptPolicy } from "../crypto/fscrypt.ts";
import { FakeLogger } from "../fake_logger.ts";
import { fscryptKeyIdentifier, SecretVolumeKeys } from "../kms/volume_keys.ts";
import { lockIfUnused, unlockVolume } from "./volume_unlock.ts";

const MASTER = new Uint8Array(32).fill(3);
const SECRETS = { encryptionMasterKey: btoa(String.fromCharCode(...MASTER)) };

/** fscrypt that answers `policy` and records the keys added and removed. */
function fakeFscrypt(policy: FscryptPolicy | null) {
  const added: string[] = [];
  const removed: string[] = [];
  const fscrypt: Fscrypt = {
    setPolicy: () => Promise.resolve(),
    policy: () => Promise.resolve(policy),
    addKey: async (_dir, key) => {
      const id = await fscryptKeyIdentifier(key);
      added.push(id);
      return id;
    },
    removeKey: (_dir, id) => {
      removed.push(id);
      return Promise.resolve({ removed: true, filesBusy: false, otherUsers: false });
    },
    keyStatus: () => Promise.resolve("absent"),
  };
  return { fscrypt, added, removed };
}

async function volumeKeyId(volumeId: string): Promise<string> {
  return await fscryptKeyIdentifier(await new SecretVolumeKeys(MASTER).fetch(volumeId));
}

function request(keyIdentifier: string, secrets: Record<string, string> = SECRETS) {
  return {
    volumeId: "vol-1",
    mountPath: "/state/mounts/fs1-abc",
    dir: "/k8s/vol-1",
    encryption: { kms: "secret" as const, keyIdentifier },
    secrets,
  };
}

function policyOf(identifier: string): FscryptPolicy {
  return { version: 2, contentsMode: 1, filenamesMode: 4, flags: 3, identifier };
}

Deno.test("unlockVolume() adds the key whose identifier the directory's policy names", async () => {
  const id = await volumeKeyId("vol-1");
  const fake = fakeFscrypt(policyOf(id));
  const logger = new FakeLogger();
  await unlockVolume({ fscrypt: fake.fscrypt, logger, kmsTimeoutMs: 1000 }, request(id));
  assert.deepEqual(fake.added, [id]);
});

Deno.test("unlockVolume() refuses a wrong key, a missing secret and an unencrypted directory, adding nothing", async () => {
  const id = await volumeKeyId("vol-1");
  const deps = (policy: FscryptPolicy | null) => {
    const fake = fakeFscrypt(policy);
    return { fake, deps: { fscrypt: fake.fscrypt, logger: new FakeLogger(), kmsTimeoutMs: 1000 } };
  };
  const refused = async (
    policy: FscryptPolicy | null,
    req: ReturnType<typeof request>,
    message: RegExp,
  ) => {
    const { fake, deps: d } = deps(policy);
    await assert.rejects(
      unlockVolume(d, req),
      (e) =>
        e instanceof CsiError && e.code === Code.FAILED_PRECONDITION && message.test(e.message),
    );
    assert.deepEqual(fake.added, []);
  };
  const other = { encryptionMasterKey: btoa(String.fromCharCode(...new Uint8Array(32).fill(4))) };
  await refused(policyOf(id), request(id, other), /"vol-1".*kms: secret.*wrong key/);
  await refused(
    policyOf(id),
    request(id, {}),
    /lack "encryptionMasterKey".*node-stage-secret-name/,
  );
  await refused(null, request(id), /is not encrypted, though the volume says it is/);
  await refused(policyOf("f".repeat(32)), request(id), /encrypted with key f{32}, not with key/);
});

Deno.test("lockIfUnused() keeps a key another staged volume uses and removes it after the last", async () => {
  const fake = fakeFscrypt(null);
  const deps = { fscrypt: fake.fscrypt, logger: new FakeLogger(), kmsTimeoutMs: 1000 };
  const id = "a".repeat(32);
  await lockIfUnused(deps, {
    volumeId: "v",
    identifier: id,
    stillStaged: [id],
    onFileSystem: "/m",
  });
  assert.deepEqual(fake.removed, []);
  await lockIfUnused(deps, {
    volumeId: "v",
    identifier: id,
    stillStaged: ["b".repeat(32)],
    onFileSystem: "/m",
  });
  assert.deepEqual(fake.removed, [id]);
});
