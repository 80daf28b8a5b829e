/** Storms, crashes, hangs and evictions: the driver must never wedge or leak. */
import assert from "node:assert/strict";
import { Node } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, targetPath } from "./support/kubelet.ts";

/** Retries like kubelet: on any error, back off and call again (bounded). */
async function retry<T>(call: () => Promise<T>, attempts = 40): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await call();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * i, 500)));
    }
  }
}

/** Mounts below the state dir in the driver's namespace, apart from the keeper's pin folder. */
async function sharedMounts(env: NodeEnv): Promise<string[]> {
  return (await env.driverMounts()).filter((p) =>
    p.startsWith(`${env.stateDir}/`) && p !== `${env.stateDir}/keeper`
  );
}

Deno.test("100 publishes of one volume make exactly one Lustre mount", async () => {
  // Also without a keeper namespace: the Lustre mount then lives in the driver's own.
  await using env = await startNodeEnv({ hostNamespace: false });
  const ctx = { source: FS1 };
  await env.stage("pv-storm", ctx);
  const pods = Array.from({ length: 100 }, (_, i) => `pod-${i}`);
  const targets = await Promise.all(pods.map((pod) => env.publish("pv-storm", pod, ctx)));
  assert.equal(new Set(targets).size, 100);
  assert.equal((await env.sim.lustreMounts()).length, 1);
  await Deno.writeTextFile(`${targets[0]}/x`, "shared");
  assert.equal(await Deno.readTextFile(`${targets[99]}/x`), "shared");
  await Promise.all(pods.map((pod) => env.unpublish("pv-storm", pod)));
  await env.unstage("pv-storm");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedMounts(env), []);
});

Deno.test("kill -9 in a publish storm, restart, kubelet retries: all succeed, nothing leaks", async () => {
  // As in the DaemonSet: the restart gets a fresh copy of the host's mount namespace.
  await using env = await startNodeEnv({ hostNamespace: true });
  const ctx = { source: FS1 };
  await env.stage("pv-crash", ctx);
  const pods = Array.from({ length: 60 }, (_, i) => `pod-${i}`);
  let firstDone!: () => void;
  const first = new Promise<void>((resolve) => firstDone = resolve);
  const storm = pods.map((pod) =>
    env.publish("pv-crash", pod, ctx).then(() => "ok", () => "failed").finally(() => firstDone())
  );
  // Kill as soon as the storm is under way: a fixed delay can outlast a fast storm.
  await first;
  const killed = await env.driver.stop("SIGKILL");
  assert.equal(killed.signal, "SIGKILL");
  const outcomes = await Promise.all(storm);
  assert.ok(outcomes.includes("failed"), "the crash interrupted the storm");
  await env.start();
  await retry(() => env.stage("pv-crash", ctx));
  for (const pod of pods) await retry(() => env.publish("pv-crash", pod, ctx));
  const targets = await Promise.all(pods.map((pod) => targetPath(env.kubeletDir, pod, "pv-crash")));
  const mounted = await mountsBelow(env.kubeletDir);
  for (const target of targets) {
    assert.equal(mounted.filter((p) => p === target).length, 1, `${target} is mounted once`);
  }
  assert.equal((await env.sim.mountAttempts()).length, 1, "the restart adopted the Lustre mount");
  for (const pod of pods) await retry(() => env.unpublish("pv-crash", pod));
  await retry(() => env.unstage("pv-crash"));
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedMounts(env), []);
  assert.deepEqual(env.lustreClientMounts(await env.keeperMounts()), [], "the keeper released it");
});

Deno.test("a hung mount.lustre returns within its timeout while other volumes keep publishing", async () => {
  await using env = await startNodeEnv({ driverArgs: ["--mount-timeout-ms", "2000"] });
  const ctx = { source: FS1 };
  await env.stage("pv-live", ctx);
  await env.sim.fault("hang", "on");
  const started = Date.now();
  const hung = env.stage("pv-hung", { source: "10.0.0.1@tcp:/fs2" }).catch((e) => e);
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (let i = 0; i < 10; i++) await env.publish("pv-live", `pod-${i}`, ctx);
  const error = await hung;
  assert.ok(error instanceof CallError);
  assert.equal(error.code, Code.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < 8000, `hung stage took ${Date.now() - started} ms`);
  const left = await new Deno.Command("pgrep", { args: ["-f", `mount_lustre.*${env.dir}`] })
    .output();
  assert.equal(new TextDecoder().decode(left.stdout).trim(), "", "the hung helper was killed");
  await env.sim.fault("hang", "off");
  await env.stage("pv-hung", { source: "10.0.0.1@tcp:/fs2" });
});

Deno.test("an evicted file system is reported abnormal and repaired by the next stage and publish", async () => {
  await using env = await startNodeEnv();
  const ctx = { source: FS1 };
  const staging = await env.stage("pv-ev", ctx);
  const old = await env.publish("pv-ev", "pod-old", ctx);
  await Deno.writeTextFile(`${old}/before.txt`, "kept on the server");
  await env.sim.fault("evict", "fs1");
  const stats = await env.driver.client.call(Node.method.nodeGetVolumeStats, {
    volumeId: "pv-ev",
    volumePath: old,
    stagingTargetPath: staging,
  });
  assert.equal(stats.volumeCondition?.abnormal, true);
  assert.equal(stats.usage.length, 2, "kubelet drops a stats answer without usage");
  assert.match(stats.volumeCondition?.message ?? "", /ENOTCONN|not connected/);
  const fresh = await env.publish("pv-ev", "pod-new", ctx);
  assert.equal(await Deno.readTextFile(`${fresh}/before.txt`), "kept on the server");
  await env.stage("pv-ev", ctx);
  const healthy = await env.driver.client.call(Node.method.nodeGetVolumeStats, {
    volumeId: "pv-ev",
    volumePath: staging,
  });
  assert.equal(healthy.volumeCondition?.abnormal, false);
  await env.publish("pv-ev", "pod-old", ctx);
  assert.equal(await Deno.readTextFile(`${old}/before.txt`), "kept on the server");
  assert.equal((await env.sim.lustreMounts()).length, 2, "one mount before, one after eviction");
  for (const pod of ["pod-old", "pod-new"]) await env.unpublish("pv-ev", pod);
  await env.unstage("pv-ev");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});
