/**
 * Where the node mounts and with which flags: staging and target paths
 * confined to the kubelet directory, no symlink followed on the way, and
 * pods' binds nosuid,nodev unless the node allows suid/dev volumes.
 */
import assert from "node:assert/strict";
import { Node } from "../src/csi/gen/csi_pb.ts";
import { mountAt, parseMountInfo } from "../src/mount/mountinfo.ts";
import { capability, FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, stagingPath, targetPath } from "./support/kubelet.ts";
import { errorMessage } from "./support/calls.ts";

/** The per-mount options of the mount at `path` (it must be mounted). */
async function mountOptions(path: string): Promise<readonly string[]> {
  const mount = mountAt(parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo")), path);
  assert.ok(mount, `"${path}" is mounted`);
  return mount.options;
}

/** Mount points in the driver's own namespace at or below `dir`. */
async function driverMountsAt(pid: number, dir: string): Promise<string[]> {
  const mounts = parseMountInfo(await Deno.readTextFile(`/proc/${pid}/mountinfo`));
  return mounts.map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

Deno.test("node RPCs refuse staging and target paths outside the kubelet directory and mount nothing", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const ctx = { source: FS1 };
  const staging = await env.stage("pv-out", ctx);
  const outside = `${env.dir}/outside`;
  await Deno.mkdir(`${outside}/staging`, { recursive: true });
  const publish = (targetPath: string, stagingTargetPath = staging) =>
    errorMessage(c.call(Node.method.nodePublishVolume, {
      volumeId: "pv-out",
      stagingTargetPath,
      targetPath,
      volumeCapability: capability(),
      volumeContext: ctx,
    }));
  for (const target of ["/etc", `${outside}/mount`, env.kubeletDir, `${env.kubeletDir}-x/mount`]) {
    const message = await publish(target);
    assert.match(message, /^3: /, target);
    assert.ok(message.includes(`"targetPath" "${target}" is not below the kubelet directory`));
  }
  assert.match(
    await publish(`${env.kubeletDir}/pods/../../etc`),
    /^3: .*not an absolute, normalised/,
  );
  assert.match(
    await publish(`${env.kubeletDir}/pods/p/mount`, "/etc"),
    /^3: .*"stagingTargetPath" "\/etc"/,
  );
  const stage = await errorMessage(c.call(Node.method.nodeStageVolume, {
    volumeId: "pv-out2",
    stagingTargetPath: `${outside}/staging`,
    volumeCapability: capability(),
    volumeContext: ctx,
  }));
  assert.match(
    stage,
    /^3: .*"stagingTargetPath" ".*\/outside\/staging" is not below the kubelet directory/,
  );
  const unpublish = c.call(Node.method.nodeUnpublishVolume, {
    volumeId: "pv-out",
    targetPath: "/etc",
  });
  assert.match(await errorMessage(unpublish), /^3: .*"\/etc" is not below the kubelet/);
  const unstage = c.call(Node.method.nodeUnstageVolume, {
    volumeId: "pv-out",
    stagingTargetPath: `${outside}/staging`,
  });
  assert.match(await errorMessage(unstage), /^3: .*staging" is not below the kubelet/);
  assert.deepEqual(await driverMountsAt(env.driver.pid, "/etc"), [], "nothing mounted on /etc");
  assert.deepEqual(await driverMountsAt(env.driver.pid, outside), []);
  assert.ok((await Deno.stat(`${outside}/staging`)).isDirectory, "an outside path is left alone");
  await env.unstage("pv-out");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("NodePublishVolume() and NodeStageVolume() follow no symlink in their paths or the PV's subdir", async () => {
  await using env = await startNodeEnv();
  const c = env.driver.client;
  const fs1 = `${env.sim.root}/srv/fs1/backing store/fs1`;
  await env.sim.mkdir("fs1", "vol/inner");
  await Deno.symlink("/", `${fs1}/to-root`);
  await Deno.symlink("vol", `${fs1}/to-vol`);
  await Deno.writeTextFile(`${fs1}/a-file`, "");
  const cases: [string, RegExp][] = [
    ["to-root/etc", /^3: .*directory "\/to-root\/etc" of .* leads through a symlink/],
    ["to-vol", /^3: .*directory "\/to-vol" of .* leads through a symlink/],
    ["to-vol/inner", /^3: .*leads through a symlink/],
    ["a-file", /^3: .*"\/a-file" in .* is not a directory/],
    ["vol/missing", /^5: .*directory "\/vol\/missing" does not exist/],
  ];
  for (const [subdir, expected] of cases) {
    assert.match(await errorMessage(env.stage(`pv-${subdir}`, { source: FS1, subdir })), expected);
  }
  // A planted symlink as the staging or target path's last component.
  const decoy = `${env.dir}/decoy`;
  await Deno.mkdir(decoy);
  const plantedStaging = await stagingPath(env.kubeletDir, "pv-planted");
  await Deno.remove(plantedStaging);
  await Deno.symlink(decoy, plantedStaging);
  const planted = await errorMessage(c.call(Node.method.nodeStageVolume, {
    volumeId: "pv-planted",
    stagingTargetPath: plantedStaging,
    volumeCapability: capability(),
    volumeContext: { source: FS1, subdir: "vol" },
  }));
  assert.match(planted, /^3: .*"stagingTargetPath" ".*globalmount" leads through a symlink/);
  const ctx = { source: FS1, subdir: "vol" };
  const staging = await env.stage("pv-vol", ctx);
  const target = await targetPath(env.kubeletDir, "pod-1", "pv-vol");
  await Deno.symlink(decoy, target);
  const published = await errorMessage(c.call(Node.method.nodePublishVolume, {
    volumeId: "pv-vol",
    stagingTargetPath: staging,
    targetPath: target,
    volumeCapability: capability(),
    volumeContext: ctx,
  }));
  assert.match(published, /^3: .*"targetPath" ".*\/mount" exists and is not a directory/);
  // A symlink in the middle of the target path (a pod directory).
  await Deno.mkdir(`${decoy}/pod-x/volumes/kubernetes.io~csi/pv-vol`, { recursive: true });
  await Deno.symlink(`${decoy}/pod-x`, `${env.kubeletDir}/pods/pod-x`);
  const middle = await errorMessage(c.call(Node.method.nodePublishVolume, {
    volumeId: "pv-vol",
    stagingTargetPath: staging,
    targetPath: `${env.kubeletDir}/pods/pod-x/volumes/kubernetes.io~csi/pv-vol/mount`,
    volumeCapability: capability(),
    volumeContext: ctx,
  }));
  assert.match(middle, /^3: .*"targetPath" ".*pod-x.*\/mount" leads through a symlink/);
  await assert.rejects(
    Deno.stat(`${decoy}/pod-x/volumes/kubernetes.io~csi/pv-vol/mount`),
    Deno.errors.NotFound,
    "the directory made for the refused target is removed",
  );
  assert.deepEqual(await driverMountsAt(env.driver.pid, decoy), [], "nothing mounted on the decoy");
  assert.deepEqual(await mountsBelow(decoy), []);
  await env.unstage("pv-vol");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("published targets are nosuid,nodev; a PV asking for suid or dev needs allowSuidDevVolumes", async () => {
  {
    await using env = await startNodeEnv();
    const ctx = { source: FS1 };
    await env.stage("pv-n", ctx);
    const target = await env.publish("pv-n", "pod-1", ctx);
    const options = await mountOptions(target);
    assert.ok(options.includes("nosuid") && options.includes("nodev"), `${options}`);
    assert.ok(!options.includes("ro"));
    const suid = { source: FS1, mountOptions: "suid" };
    const refused = await errorMessage(env.publish("pv-n", "pod-2", suid));
    assert.match(refused, /^3: .*mount option "suid" is refused: .*allowSuidDevVolumes/);
    const dev = await errorMessage(env.stage("pv-d", ctx, { mountFlags: ["dev"] }));
    assert.match(dev, /^3: .*mount option "dev" is refused: .*allowSuidDevVolumes/);
    await env.unpublish("pv-n", "pod-1");
    await env.unstage("pv-n");
    assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  }
  await using env = await startNodeEnv({ driverArgs: ["--allow-suid-dev-volumes", "true"] });
  const ctx = { source: FS1, mountOptions: "suid" };
  await env.stage("pv-s", ctx, { mountFlags: ["dev"] });
  const target = await env.publish("pv-s", "pod-1", ctx, { mountFlags: ["dev"], readonly: true });
  const options = await mountOptions(target);
  assert.ok(!options.includes("nosuid") && !options.includes("nodev"), `${options}`);
  assert.ok(options.includes("ro"));
  const plain = await env.publish("pv-s", "pod-2", { source: FS1 });
  assert.ok((await mountOptions(plain)).includes("nosuid"), "a volume that asks for nothing");
  await env.unpublish("pv-s", "pod-1");
  await env.unpublish("pv-s", "pod-2");
  await env.unstage("pv-s");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});
