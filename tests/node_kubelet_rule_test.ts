/**
 * kubelet refuses to unstage a volume while another mount shows the same
 * (root, device). The driver's own mounts must never trip that rule.
 */
import assert from "node:assert/strict";
import { FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, unstageBlockers } from "./support/kubelet.ts";

Deno.test("two volumes on different subdirectories stage and unstage in any order", async () => {
  await using env = await startNodeEnv();
  const a = { source: FS1, subdir: await env.sim.mkdir("fs1", "team-a") };
  const b = { source: FS1, subdir: await env.sim.mkdir("fs1", "team-b") };
  for (const order of [["pv-a", "pv-b"], ["pv-b", "pv-a"]]) {
    const stagingA = await env.stage("pv-a", a);
    const stagingB = await env.stage("pv-b", b);
    assert.equal((await env.sim.lustreMounts()).length, order[0] === "pv-a" ? 1 : 2);
    assert.deepEqual(await unstageBlockers(stagingA), []);
    assert.deepEqual(await unstageBlockers(stagingB), []);
    for (const id of order) await env.unstage(id);
    assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  }
});

Deno.test("a whole-file-system volume beside a subdirectory volume blocks neither", async () => {
  await using env = await startNodeEnv();
  const whole = { source: FS1 };
  const sub = { source: `${FS1}/data` };
  await env.sim.mkdir("fs1", "data");
  const stagingWhole = await env.stage("pv-whole", whole);
  const stagingSub = await env.stage("pv-sub", sub);
  const target = await env.publish("pv-sub", "pod-1", sub);
  await env.unpublish("pv-sub", "pod-1");
  assert.deepEqual(await unstageBlockers(stagingWhole), []);
  assert.deepEqual(await unstageBlockers(stagingSub), []);
  assert.equal((await env.sim.lustreMounts()).length, 1, "one Lustre mount serves both");
  await env.unstage("pv-whole");
  await env.unstage("pv-sub");
  void target;
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("two volumes on one directory are refused below Lustre 2.15.8", async () => {
  await using env = await startNodeEnv();
  const ctx = { source: FS1, subdir: await env.sim.mkdir("fs1", "shared") };
  const first = await env.stage("pv-1", ctx);
  await assert.rejects(env.stage("pv-2", ctx), /^CallError: 9: .*already mounted at/);
  assert.deepEqual(await unstageBlockers(first), []);
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir, first]);
});

Deno.test("from Lustre 2.15.8 mounts carry unique_fsid and one directory can back two volumes", async () => {
  await using env = await startNodeEnv();
  await env.sim.fault("version", "2.15.8");
  await env.driver.stop();
  await env.start();
  const ctx = { source: FS1, subdir: await env.sim.mkdir("fs1", "shared") };
  const first = await env.stage("pv-1", ctx);
  const second = await env.stage("pv-2", ctx);
  const mounts = await env.sim.lustreMounts();
  assert.equal(mounts.length, 2, "the second volume gets a Lustre mount of its own");
  for (const mount of mounts) assert.match(mount.argv.join(" "), /unique_fsid/);
  assert.deepEqual(await unstageBlockers(first), []);
  assert.deepEqual(await unstageBlockers(second), []);
  await env.unstage("pv-1");
  await env.unstage("pv-2");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  const shared = (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/`));
  assert.deepEqual(shared, []);
});
