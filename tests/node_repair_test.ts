/**
 * Repairs are mount-first: a stale staging mount is replaced only once its
 * replacement is ready, so a repair that fails while the MGS is unreachable
 * leaves the volume as staged as it was, and the next publish (kubelet never
 * stages twice) repairs it once Lustre answers again.
 */
import assert from "node:assert/strict";
import { Node } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { capability } from "./support/node_env.ts";
import { mountsBelow, stagingPath, writeVolData } from "./support/kubelet.ts";
import { errorMessage, statusCode } from "./support/calls.ts";

const ctx = { source: FS1 };

/** Is `path` a mount point in the test's namespace and in the driver's? */
async function mountedEverywhere(env: NodeEnv, path: string): Promise<[boolean, boolean]> {
  return [(await mountsBelow(path)).includes(path), (await env.driverMounts()).includes(path)];
}

async function stageCall(env: NodeEnv, volumeId: string) {
  return env.driver.client.call(Node.method.nodeStageVolume, {
    volumeId,
    stagingTargetPath: await stagingPath(env.kubeletDir, volumeId),
    volumeCapability: capability(),
    volumeContext: ctx,
  });
}

Deno.test("NodePublishVolume() and NodeStageVolume() keep a stale staging mount while the MGS is down, and publish repairs it after", async () => {
  await using env = await startNodeEnv();
  const staging = await env.stage("pv-rep", ctx);
  const old = await env.publish("pv-rep", "pod-old", ctx);
  await Deno.writeTextFile(`${old}/data.txt`, "kept on the server");

  await env.sim.fault("evict", "fs1");
  await env.sim.fault("mgs-down");
  const refused = errorMessage(env.publish("pv-rep", "pod-new", ctx));
  assert.match(await refused, /^14: .*Input\/output error/s, "UNAVAILABLE with the reason");
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true], "the stale mount stays");
  assert.equal(await statusCode(stageCall(env, "pv-rep")), Code.UNAVAILABLE);
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true], "still staged after stage");

  await env.sim.fault("mgs-up");
  const fresh = await env.publish("pv-rep", "pod-new", ctx); // no NodeStage in between
  assert.equal(await Deno.readTextFile(`${fresh}/data.txt`), "kept on the server");
  assert.equal(await Deno.readTextFile(`${staging}/data.txt`), "kept on the server");

  // A stale staging mount again: NodeStage itself keeps it while the MGS is down, then repairs it.
  await env.sim.fault("evict", "fs1");
  await env.sim.fault("mgs-down");
  assert.equal(await statusCode(stageCall(env, "pv-rep")), Code.UNAVAILABLE);
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true]);
  await env.sim.fault("mgs-up");
  await env.stage("pv-rep", ctx);
  assert.equal(await Deno.readTextFile(`${staging}/data.txt`), "kept on the server");

  for (const pod of ["pod-old", "pod-new"]) await env.unpublish("pv-rep", pod);
  await env.unstage("pv-rep");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("NodePublishVolume() stages again a staging path emptied behind the driver's back", async () => {
  await using env = await startNodeEnv();
  const staging = await env.stage("pv-gone", ctx);
  await writeVolData(staging, "pv-gone");
  const old = await env.publish("pv-gone", "pod-old", ctx);
  await Deno.writeTextFile(`${old}/data.txt`, "kept on the server");

  // The kubelet directory is shared: unmounting here unmounts in the driver's namespace too.
  const umount = await new Deno.Command("umount", {
    args: [staging],
    signal: AbortSignal.timeout(10_000),
  }).output();
  assert.equal(umount.code, 0, new TextDecoder().decode(umount.stderr));
  assert.deepEqual(await mountedEverywhere(env, staging), [false, false]);

  await env.sim.fault("evict", "fs1");
  await env.sim.fault("mgs-down");
  assert.equal(await statusCode(env.publish("pv-gone", "pod-new", ctx)), Code.UNAVAILABLE);
  assert.deepEqual(await mountedEverywhere(env, staging), [false, false]);
  await env.sim.fault("mgs-up");
  const fresh = await env.publish("pv-gone", "pod-new", ctx);
  assert.equal(await Deno.readTextFile(`${fresh}/data.txt`), "kept on the server");
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true]);

  for (const pod of ["pod-old", "pod-new"]) await env.unpublish("pv-gone", pod);
  await env.unstage("pv-gone");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});
