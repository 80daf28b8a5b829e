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
import { type MountInfo, parseMountInfo } from "../src/mount/mountinfo.ts";

const ctx = { source: FS1 };

/** Is `path` a mount point in the test's namespace and in the driver's? */
async function mountedEverywhere(env: NodeEnv, path: string): Promise<[boolean, boolean]> {
  return [(await mountsBelow(path)).includes(path), (await env.driverMounts()).includes(path)];
}

/** The driver's shared Lustre mounts ("path device"): in the keeper, or in its own namespace. */
async function sharedLustreMounts(env: NodeEnv): Promise<string[]> {
  const mounts: MountInfo[] = env.host
    ? await env.keeperMounts()
    : parseMountInfo(await Deno.readTextFile(`/proc/${env.driver.pid}/mountinfo`));
  return mounts.filter((m) =>
    m.fsType === "fuse.lustre" && m.mountPoint.startsWith(`${env.stateDir}/`)
  ).map((m) => `${m.mountPoint} ${m.major}:${m.minor}`);
}

/** Unmounts `path` as an admin would; the kubelet dir is shared, so the driver's view loses it too. */
async function unmountBehindDriver(path: string): Promise<void> {
  const umount = await new Deno.Command("umount", {
    args: [path],
    signal: AbortSignal.timeout(10_000),
  }).output();
  assert.equal(umount.code, 0, new TextDecoder().decode(umount.stderr));
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
  const [before] = await sharedLustreMounts(env);

  await env.sim.fault("evict", "fs1");
  await env.sim.fault("mgs-down");
  const refused = errorMessage(env.publish("pv-rep", "pod-new", ctx));
  assert.match(await refused, /^14: .*Input\/output error/s, "UNAVAILABLE with the reason");
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true], "the stale mount stays");
  assert.equal(await statusCode(stageCall(env, "pv-rep")), Code.UNAVAILABLE);
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true], "still staged after stage");
  assert.deepEqual(await sharedLustreMounts(env), [before], "the stale shared mount stays too");

  await env.sim.fault("mgs-up");
  const fresh = await env.publish("pv-rep", "pod-new", ctx); // no NodeStage in between
  assert.equal(await Deno.readTextFile(`${fresh}/data.txt`), "kept on the server");
  assert.equal(await Deno.readTextFile(`${staging}/data.txt`), "kept on the server");
  const [after] = await sharedLustreMounts(env);
  assert.deepEqual(await sharedLustreMounts(env), [after], "one shared mount, replaced");
  assert.notEqual(after, before);
  assert.equal(after.split(" ")[0], before.split(" ")[0], "at the same path");

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
  assert.deepEqual(await sharedLustreMounts(env), [], "no Lustre mount is left, stale or new");
});

Deno.test("NodePublishVolume() stages again a staging path emptied behind the driver's back", async () => {
  // Without a keeper: the shared Lustre mount is replaced in the driver's own namespace.
  await using env = await startNodeEnv({ hostNamespace: false });
  const staging = await env.stage("pv-gone", ctx);
  await writeVolData(staging, "pv-gone");
  const old = await env.publish("pv-gone", "pod-old", ctx);
  await Deno.writeTextFile(`${old}/data.txt`, "kept on the server");

  await unmountBehindDriver(staging);
  assert.deepEqual(await mountedEverywhere(env, staging), [false, false]);

  const [before] = await sharedLustreMounts(env);
  await env.sim.fault("evict", "fs1");
  await env.sim.fault("mgs-down");
  assert.equal(await statusCode(env.publish("pv-gone", "pod-new", ctx)), Code.UNAVAILABLE);
  assert.deepEqual(await mountedEverywhere(env, staging), [false, false]);
  assert.deepEqual(await sharedLustreMounts(env), [before], "the stale shared mount stays");
  await env.sim.fault("mgs-up");
  const fresh = await env.publish("pv-gone", "pod-new", ctx);
  assert.equal(await Deno.readTextFile(`${fresh}/data.txt`), "kept on the server");
  assert.deepEqual(await mountedEverywhere(env, staging), [true, true]);
  const after = await sharedLustreMounts(env);
  assert.equal(after.length, 1, "one shared mount, replaced");
  assert.notEqual(after[0], before);

  for (const pod of ["pod-old", "pod-new"]) await env.unpublish("pv-gone", pod);
  await env.unstage("pv-gone");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedLustreMounts(env), [], "no Lustre mount is left, stale or new");
});

Deno.test("NodePublishVolume() 16 at once on a staging path emptied behind the driver's back stage it again once, and every target shows the volume", async () => {
  await using env = await startNodeEnv({ hostNamespace: false });
  const staging = await env.stage("pv-herd", ctx);
  await writeVolData(staging, "pv-herd");
  await Deno.writeTextFile(`${staging}/data.txt`, "kept on the server");
  await unmountBehindDriver(staging);

  // Publishes that arrive together share one check (and here one repair) of the staging path.
  const pods = Array.from({ length: 16 }, (_, i) => `pod-${i}`);
  const targets = await Promise.all(pods.map((pod) => env.publish("pv-herd", pod, ctx)));
  for (const target of targets) {
    assert.equal(await Deno.readTextFile(`${target}/data.txt`), "kept on the server");
  }
  const stagingMounts = (await mountsBelow(staging)).filter((path) => path === staging);
  assert.deepEqual(stagingMounts, [staging], "staged again exactly once, nothing stacked");
  assert.equal((await sharedLustreMounts(env)).length, 1, "one shared Lustre mount");

  for (const pod of pods) await env.unpublish("pv-herd", pod);
  await env.unstage("pv-herd");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedLustreMounts(env), [], "no Lustre mount is left");
});
