/**
 * A Lustre file system that hangs (lustre-sim `freeze`: every call on it
 * blocks in the kernel) must never wedge the driver: its volumes answer at
 * once, everything else keeps working, threads stay bounded, and it
 * recovers by itself after `thaw`.
 */
import assert from "node:assert/strict";
import { Identity, Node } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, targetPath } from "./support/kubelet.ts";
import { parseExposition, type Samples } from "./support/prom_text.ts";
import { freePort } from "./support/free_port.ts";

const FS2 = "10.0.0.1@tcp:/fs2";
const CHECK_TIMEOUT_MS = 1000;
const PROBE_MS = 1000;
/**
 * The documented thread bound of the driver with one hung mount
 * (docs/troubleshooting.md): Deno's own threads and blocking pool, the
 * mount workers, and the gate's 4 workers plus 5 held by the hung mount.
 * Without the gate, 200 stats calls would hold 200 threads.
 */
const THREAD_BOUND = 64;
const NOT_ANSWERING = /Lustre file system not answering since \d{4}-\d\d-\d\dT[\d:.]+Z/;

/** Runs `call`, returning its result or error and how long it took. */
async function timed<T>(
  call: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    const value = await call();
    return { value, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

/** The driver's /metrics samples (a scrape that hangs fails the test). */
async function scrape(port: number): Promise<Samples> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(5000),
  });
  return parseExposition(await response.text());
}

function threadsOf(env: NodeEnv): number {
  return [...Deno.readDirSync(`/proc/${env.driver.pid}/task`)].length;
}

/** A call that does not answer within this fails the test instead of hanging it. */
const CALL_LIMIT = { timeoutMs: 5000 };

function statsOf(env: NodeEnv, volumeId: string, volumePath: string) {
  return env.driver.client.call(
    Node.method.nodeGetVolumeStats,
    { volumeId, volumePath },
    CALL_LIMIT,
  );
}

Deno.test("a frozen file system never wedges the driver and recovers after thaw", async () => {
  const metricsPort = freePort();
  await using env = await startNodeEnv({
    driverArgs: [
      "--command-timeout-ms",
      `${CHECK_TIMEOUT_MS}`,
      "--hang-probe-ms",
      `${PROBE_MS}`,
      "--metrics-address",
      `127.0.0.1:${metricsPort}`,
    ],
  });
  const notAnswering = async () =>
    (await scrape(metricsPort)).get('klustre_csi_lustre_not_answering_since_seconds{fs="fs1"}');
  const fs1 = { source: FS1 };
  const fs1b = { source: FS1, subdir: await env.sim.mkdir("fs1", "b") };
  const fs1c = { source: FS1, subdir: await env.sim.mkdir("fs1", "c") };
  const staging = await env.stage("pv-frozen", fs1);
  const target = await env.publish("pv-frozen", "pod-a", fs1);
  // Another volume of fs1 keeps the node's fs1 mount in use throughout.
  const kept = await env.stage("pv-kept", fs1b);
  assert.equal((await statsOf(env, "pv-frozen", target)).volumeCondition?.abnormal, false);
  await env.sim.fault("freeze", "fs1");
  // Should the test itself block on the frozen file system, thaw it anyway.
  const watchdog = setTimeout(() => env.sim.fault("thaw", "fs1"), 60_000);
  try {
    // Kubelet's stats loop on the frozen volume, 20 calls at a time.
    const storm = (async () => {
      const answers = [];
      for (let round = 0; round < 10; round++) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, () => timed(() => statsOf(env, "pv-frozen", target))),
        );
        answers.push(...batch);
        if (batch.some((answer) => answer.error)) break;
      }
      return answers;
    })();
    // Meanwhile, the rest of the node works.
    const others = [
      await timed(() => env.stage("pv-other", { source: FS2 })),
      await timed(() => env.publish("pv-other", "pod-b", { source: FS2 })),
      await timed(() => env.driver.client.call(Identity.method.probe, {}, CALL_LIMIT)),
      await timed(() => env.driver.client.call(Node.method.nodeGetInfo, {}, CALL_LIMIT)),
    ];
    const answers = await storm;
    for (const { value, error, ms } of answers) {
      assert.equal(error, undefined, `a stats call failed: ${error}`);
      assert.equal(value?.volumeCondition?.abnormal, true);
      assert.match(value?.volumeCondition?.message ?? "", NOT_ANSWERING);
      assert.equal(value?.usage.length, 2, "kubelet drops a stats answer without usage");
      assert.ok(ms < CHECK_TIMEOUT_MS + 1000, `a stats call took ${Math.round(ms)} ms`);
    }
    assert.equal(answers.length, 200);
    // Scrapes answer during the hang and say since when fs1 does not answer.
    const since = await notAnswering();
    assert.ok(since !== undefined && Math.abs(since - Date.now() / 1000) < 60, `since ${since}`);
    for (const [i, { error, ms }] of others.entries()) {
      assert.equal(error, undefined, `call ${i} failed: ${error}`);
      assert.ok(ms < 2000, `call ${i} took ${Math.round(ms)} ms`);
    }
    const threads = threadsOf(env);
    assert.ok(threads < THREAD_BOUND, `the driver runs ${threads} threads`);

    // Stage and publish on the frozen file system are refused at once: UNAVAILABLE.
    const stage = await timed(() => env.stage("pv-frozen-2", fs1c));
    const podC = await targetPath(env.kubeletDir, "pod-c", "pv-frozen");
    const publish = await timed(() =>
      env.driver.client.call(Node.method.nodePublishVolume, {
        volumeId: "pv-frozen",
        stagingTargetPath: staging,
        targetPath: podC,
        volumeCapability: capability(),
        volumeContext: fs1,
      }, CALL_LIMIT)
    );
    for (const { error, ms } of [stage, publish]) {
      assert.ok(error instanceof CallError, `${error}`);
      assert.equal(error.code, Code.UNAVAILABLE, error.details);
      assert.match(error.details, NOT_ANSWERING);
      assert.ok(ms < 2000, `refusal took ${Math.round(ms)} ms`);
    }
    assert.ok(!(await mountsBelow(env.kubeletDir)).includes(podC));

    // The pod leaves the frozen volume: unpublish and unstage answer and leave no mount.
    // (Not env.unstage: like kubelet it would mkdir -p the frozen staging path.)
    const unpublish = await timed(() => env.unpublish("pv-frozen", "pod-a"));
    const unstage = await timed(() =>
      env.driver.client.call(
        Node.method.nodeUnstageVolume,
        { volumeId: "pv-frozen", stagingTargetPath: staging },
        CALL_LIMIT,
      )
    );
    for (const { error, ms } of [unpublish, unstage]) {
      assert.equal(error, undefined, `${error}`);
      assert.ok(ms < 2000, `unmount took ${Math.round(ms)} ms`);
    }
    const left = await mountsBelow(env.kubeletDir);
    assert.ok(!left.includes(target) && !left.includes(staging), left.join(" "));
  } finally {
    clearTimeout(watchdog);
    await env.sim.fault("thaw", "fs1");
  }
  // The probe sees it answer again: normal stats within two probe intervals.
  const thawedAt = performance.now();
  let healthy = false;
  while (!healthy && performance.now() - thawedAt < 10_000) {
    healthy = (await statsOf(env, "pv-kept", kept)).volumeCondition?.abnormal === false;
    if (!healthy) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const recoveredMs = performance.now() - thawedAt;
  assert.ok(healthy, "stats are normal again after thaw");
  assert.equal(await notAnswering(), undefined, "no series once fs1 answers");
  assert.ok(recoveredMs < 2 * PROBE_MS + 1000, `recovery took ${Math.round(recoveredMs)} ms`);
  await env.stage("pv-frozen-2", fs1c);
  await env.unpublish("pv-other", "pod-b");
  for (const volume of ["pv-kept", "pv-frozen-2", "pv-other"]) await env.unstage(volume);
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});
