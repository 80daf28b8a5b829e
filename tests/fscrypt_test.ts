/** The fscrypt ioctls against the real kernel: an ext4 made with `-O encrypt` on a loop device. */
import assert from "node:assert/strict";
import { FSCRYPT_KEY_BYTES, FscryptError, WorkerFscrypt } from "../src/crypto/fscrypt.ts";
import { fscryptKeyIdentifier } from "../src/kms/volume_keys.ts";
import { encryptableFs } from "./support/encrypt_fs.ts";

const fscrypt = new WorkerFscrypt({ timeoutMs: 10_000 });

function randomKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(FSCRYPT_KEY_BYTES));
}

/** The error code of a failed read, e.g. ENOKEY. */
async function readError(path: string): Promise<string> {
  try {
    await Deno.readTextFile(path);
    return "read worked";
  } catch (error) {
    return String((error as Error).message);
  }
}

Deno.test("WorkerFscrypt locks and unlocks a directory with a v2 policy", async () => {
  await using fs = await encryptableFs();
  const key = randomKey();
  const keyCopy = new Uint8Array(key);
  const expected = await fscryptKeyIdentifier(key);
  const identifier = await fscrypt.addKey(fs.mount, key);
  assert.equal(identifier, expected, "the identifier is known before the key is added");
  assert.ok(key.every((b) => b === 0), "the caller's key bytes are zeroed");
  const dir = `${fs.mount}/vol`;
  await Deno.mkdir(dir);
  assert.equal(await fscrypt.policy(dir), null);
  await fscrypt.setPolicy(dir, identifier);
  await fscrypt.setPolicy(dir, identifier); // the same policy again: ok
  const policy = await fscrypt.policy(dir);
  assert.deepEqual(policy, {
    version: 2,
    contentsMode: 1,
    filenamesMode: 4,
    flags: 3,
    identifier,
  });
  await Deno.writeTextFile(`${dir}/secret.txt`, "encrypted file");

  assert.equal(await fscrypt.keyStatus(fs.mount, identifier), "present");
  assert.deepEqual(await fscrypt.removeKey(fs.mount, identifier), {
    removed: true,
    filesBusy: false,
    otherUsers: false,
  });
  assert.equal(await fscrypt.keyStatus(dir, identifier), "absent");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.equal(names.length, 1);
  assert.notEqual(names[0], "secret.txt", "listing shows encrypted names");
  assert.match(await readError(`${dir}/${names[0]}`), /Required key not available|os error 126/);
  assert.match(await readError(`${dir}/secret.txt`), /No such file/);
  // Removing a key that is gone answers "not removed", no error.
  assert.equal((await fscrypt.removeKey(fs.mount, identifier)).removed, false);

  assert.equal(await fscrypt.addKey(fs.mount, keyCopy), identifier);
  assert.equal(await Deno.readTextFile(`${dir}/secret.txt`), "encrypted file");
  await fscrypt.removeKey(fs.mount, identifier);
});

Deno.test("WorkerFscrypt.removeKey() reports files still open", async () => {
  await using fs = await encryptableFs();
  const identifier = await fscrypt.addKey(fs.mount, randomKey());
  const dir = `${fs.mount}/vol`;
  await Deno.mkdir(dir);
  await fscrypt.setPolicy(dir, identifier);
  await Deno.writeTextFile(`${dir}/f`, "x");
  const open = await Deno.open(`${dir}/f`);
  try {
    const removal = await fscrypt.removeKey(fs.mount, identifier);
    assert.deepEqual(removal, { removed: true, filesBusy: true, otherUsers: false });
    assert.equal(await fscrypt.keyStatus(fs.mount, identifier), "incompletely-removed");
  } finally {
    open.close();
  }
  // Once the file is closed, removing again finishes the job.
  await fscrypt.removeKey(fs.mount, identifier);
  assert.equal(await fscrypt.keyStatus(fs.mount, identifier), "absent");
});

Deno.test("WorkerFscrypt answers errno names for refused calls", async () => {
  await using fs = await encryptableFs();
  const identifier = await fscrypt.addKey(fs.mount, randomKey());
  const full = `${fs.mount}/full`;
  await Deno.mkdir(full);
  await Deno.writeTextFile(`${full}/f`, "x");
  await assert.rejects(
    fscrypt.setPolicy(full, identifier),
    (e) => e instanceof FscryptError && e.code === "ENOTEMPTY",
  );
  const locked = `${fs.mount}/locked`;
  await Deno.mkdir(locked);
  await fscrypt.setPolicy(locked, identifier);
  // Another key's policy on an encrypted directory: refused.
  const other = await fscrypt.addKey(fs.mount, randomKey());
  assert.notEqual(other, identifier);
  await assert.rejects(
    fscrypt.setPolicy(locked, other),
    (e) => e instanceof FscryptError && e.code === "EEXIST",
  );
  await assert.rejects(
    fscrypt.policy(`${fs.mount}/missing`),
    (e) => e instanceof FscryptError && e.code === "ENOENT",
  );
  await fscrypt.removeKey(fs.mount, identifier);
  await fscrypt.removeKey(fs.mount, other);
});

Deno.test("WorkerFscrypt on a file system without encryption answers EOPNOTSUPP", async () => {
  const dir = await Deno.makeTempDir({ prefix: "klustre-plain-" });
  try {
    const mnt = `${dir}/t`;
    await Deno.mkdir(mnt);
    await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "tmpfs", mnt],
      signal: AbortSignal.timeout(10_000),
    }).output();
    try {
      await assert.rejects(
        fscrypt.addKey(mnt, randomKey()),
        (e) => e instanceof FscryptError && ["EOPNOTSUPP", "ENOTTY"].includes(e.code),
      );
    } finally {
      await new Deno.Command("umount", { args: [mnt], signal: AbortSignal.timeout(10_000) })
        .output();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
