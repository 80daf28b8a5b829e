/**
 * The simulator's encryptable file systems: ext4 `-O encrypt` on a loop device behind the
 * client mounts, so the fscrypt ioctls reach the kernel through mount.lustre's mounts.
 */
import assert from "node:assert/strict";
import { FSCRYPT_KEY_BYTES, WorkerFscrypt } from "../src/crypto/fscrypt.ts";
import { runCommand, tempDir } from "./support/driver.ts";
import { startSim } from "./support/sim.ts";

const fscrypt = new WorkerFscrypt({ timeoutMs: 10_000 });

Deno.test("lustre-sim serves an encryptable file system whose client mounts take fscrypt keys", async () => {
  await using dir = await tempDir("klustre-simenc-");
  const image = `${dir.path}/sim/srv/sec/image.ext4`;
  {
    await using sim = await startSim(`${dir.path}/sim`, {
      fileSystems: [{ name: "sec", encryptable: true, size: "32m", inodes: 2048 }],
    });
    const env = { PATH: sim.pathEnv };
    const [a, b] = [`${dir.path}/a`, `${dir.path}/b`];
    await Deno.mkdir(a);
    await Deno.mkdir(b);
    for (const target of [a, b]) {
      const mounted = await runCommand("mount.lustre", ["10.0.0.1@tcp:/sec", target], env);
      assert.equal(mounted.code, 0, mounted.stderr);
    }
    assert.match((await runCommand("losetup", ["-j", image])).stdout, /loop\d+/);
    const key = crypto.getRandomValues(new Uint8Array(FSCRYPT_KEY_BYTES));
    const id = await fscrypt.addKey(a, key);
    await Deno.mkdir(`${a}/vol`);
    await fscrypt.setPolicy(`${a}/vol`, id);
    await Deno.writeTextFile(`${a}/vol/secret.txt`, "encrypted file");
    assert.equal(await Deno.readTextFile(`${b}/vol/secret.txt`), "encrypted file");
    assert.equal((await fscrypt.policy(`${b}/vol`))?.identifier, id);
    await fscrypt.removeKey(a, id);
    const names = [...Deno.readDirSync(`${b}/vol`)].map((e) => e.name);
    assert.equal(names.length, 1);
    assert.notEqual(names[0], "secret.txt");
    await assert.rejects(Deno.readTextFile(`${b}/vol/${names[0]}`), /Required key not available/);
    for (const target of [a, b]) assert.equal((await runCommand("umount", [target])).code, 0);
  }
  // down unmounted the ext4 and so freed its loop device.
  assert.equal((await runCommand("losetup", ["-j", image])).stdout.trim(), "");
});
