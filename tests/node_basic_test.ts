/** Node service: the kubelet sequence through the real socket against the simulator. */
import assert from "node:assert/strict";
import { Node, NodeServiceCapability_RPC_Type as Cap } from "../src/csi/gen/csi_pb.ts";
import { FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, unstageBlockers } from "./support/kubelet.ts";

Deno.test("NodeGetInfo() and NodeGetCapabilities() describe the node", async () => {
  await using env = await startNodeEnv();
  const info = await env.driver.client.call(Node.method.nodeGetInfo, {});
  assert.equal(info.nodeId, "test-node");
  assert.equal(info.maxVolumesPerNode, 0n);
  assert.deepEqual(info.accessibleTopology?.segments, {
    "lustre.csi.klustrefs.io/lustre-client": "true",
  });
  const caps = await env.driver.client.call(Node.method.nodeGetCapabilities, {});
  const types = caps.capabilities.map((c) => c.type.case === "rpc" ? c.type.value.type : -1);
  assert.deepEqual(
    types.sort(),
    [
      Cap.STAGE_UNSTAGE_VOLUME,
      Cap.GET_VOLUME_STATS,
      Cap.VOLUME_CONDITION,
      Cap.SINGLE_NODE_MULTI_WRITER,
    ].sort(),
  );
});

Deno.test("stage, publish to two pods, write in one, read in the other, then clean up", async () => {
  await using env = await startNodeEnv();
  const context = { source: FS1, mountOptions: "flock,user_xattr" };
  const staging = await env.stage("pv-a", context);
  const targetA = await env.publish("pv-a", "pod-a", context);
  const targetB = await env.publish("pv-a", "pod-b", context);
  await Deno.writeTextFile(`${targetA}/hello.txt`, "from pod a");
  assert.equal(await Deno.readTextFile(`${targetB}/hello.txt`), "from pod a");
  const mounts = await mountsBelow(env.kubeletDir);
  assert.ok(mounts.includes(staging) && mounts.includes(targetA) && mounts.includes(targetB));
  assert.equal((await env.sim.lustreMounts()).length, 1);
  const held = (await env.driverMounts()).filter((p) =>
    p.startsWith(`${env.stateDir}/mounts/fs1-`)
  );
  assert.equal(held.length, 1, "the driver holds one shared Lustre mount of fs1");
  assert.ok(!mounts.includes(held[0]), "the shared mount stays in the driver's mount namespace");
  assert.deepEqual((await unstageBlockers(staging)).sort(), [targetA, targetB].sort());

  await env.unpublish("pv-a", "pod-a");
  await env.unpublish("pv-a", "pod-b");
  await assert.rejects(Deno.lstat(targetA), Deno.errors.NotFound);
  assert.deepEqual(await unstageBlockers(staging), []);
  await env.unstage("pv-a");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  const shared = (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/`));
  assert.deepEqual(shared, [], "the shared Lustre mount is released with its last volume");
});
