/**
 * SELinux: kubelet (CSIDriver seLinuxMount: true) adds the pod's label as a
 * quoted `context="..."` mount flag. Each label needs its own Lustre client
 * mount: the label belongs to the superblock.
 */
import assert from "node:assert/strict";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow } from "./support/kubelet.ts";
import { splitOptionText } from "../src/lustre/mount_options.ts";

const LABEL_A = 'context="system_u:object_r:container_file_t:s0:c0,c1"';
const LABEL_B = 'context="system_u:object_r:container_file_t:s0:c2,c3"';

async function sharedMounts(env: NodeEnv): Promise<string[]> {
  return (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/`));
}

Deno.test("volumes with different SELinux contexts get their own Lustre mounts, the same context shares one", async () => {
  await using env = await startNodeEnv();
  const volume = async (dir: string) => ({ source: FS1, subdir: await env.sim.mkdir("fs1", dir) });
  const a = await volume("team-a");
  const b = await volume("team-b");
  const c = await volume("team-c");
  await env.stage("pv-a", a, { mountFlags: [LABEL_A] });
  await env.stage("pv-b", b, { mountFlags: [`noatime,${LABEL_B}`] });
  await env.stage("pv-c", c, { mountFlags: [LABEL_A] });
  const mounts = await env.sim.lustreMounts();
  assert.equal(mounts.length, 2, "one Lustre mount per context");
  const options = mounts.map((m) => splitOptionText(m.argv[m.argv.indexOf("-o") + 1]));
  assert.ok(options.some((o) => o.includes(LABEL_A)), JSON.stringify(options));
  assert.ok(options.some((o) => o.includes(LABEL_B)), JSON.stringify(options));
  assert.equal((await sharedMounts(env)).length, 2);
  await Deno.writeTextFile(`${env.sim.root}/srv/fs1/backing store/fs1/team-c/f`, "labelled");
  const target = await env.publish("pv-c", "pod-1", c, { mountFlags: [LABEL_A] });
  assert.equal(await Deno.readTextFile(`${target}/f`), "labelled");
  await env.unpublish("pv-c", "pod-1");
  for (const id of ["pv-a", "pv-b", "pv-c"]) await env.unstage(id);
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedMounts(env), []);
});

Deno.test("an SELinux context with an unbalanced quote is refused naming the option", async () => {
  await using env = await startNodeEnv();
  const flag = 'context="system_u:object_r:t:s0:c0,c1';
  await assert.rejects(
    env.stage("pv-bad", { source: FS1 }, { mountFlags: [flag] }),
    (error: Error) => {
      assert.match(error.message, /^3: /, "INVALID_ARGUMENT");
      assert.ok(
        error.message.includes(`mount option "${flag}" is refused: its quote is not closed`),
      );
      return true;
    },
  );
  assert.equal((await env.sim.mountAttempts()).length, 0, "nothing reached mount.lustre");
});
