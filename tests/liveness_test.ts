/**
 * Liveness is about the driver, not Lustre: through the real driver's socket
 * and HTTP endpoint, with the simulator's Lustre modules unloaded and loaded.
 */
import assert from "node:assert/strict";
import { Identity } from "../src/csi/gen/csi_pb.ts";
import { CallError } from "../src/grpc/client.ts";
import { Code } from "../src/csi/csi_error.ts";
import { FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow } from "./support/kubelet.ts";
import { freePort } from "./support/free_port.ts";

/** Mounts below the kubelet dir (itself a shared mount, as on a node). */
async function volumeMounts(kubeletDir: string): Promise<string[]> {
  return (await mountsBelow(kubeletDir)).filter((m) => m !== kubeletDir);
}

/** The value of the client gauge in one scrape. */
async function clientGauge(base: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("klustre_csi_lustre_client_ready "));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

Deno.test("Probe stays ready while the Lustre modules are missing; stage is refused until they load", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await using env = await startNodeEnv({
    driverArgs: ["--metrics-address", `127.0.0.1:${port}`, "--probe-cache-ms", "100"],
  });
  const probe = async () => (await env.driver.client.call(Identity.method.probe, {})).ready;
  assert.equal(await clientGauge(base), 1);

  await env.sim.fault("modules-missing", "on");
  // Several liveness periods: every Probe and /healthz stays ready.
  const started = Date.now();
  for (let i = 0; i < 6; i++) {
    assert.equal(await probe(), true, `Probe ${i} with the modules missing`);
    const healthz = await fetch(`${base}/healthz`);
    assert.equal(healthz.status, 200);
    assert.equal(await healthz.text(), "ok\n");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(Date.now() - started > 500, "longer than several probe cache periods");
  assert.equal(await clientGauge(base), 0);
  assert.match(env.driver.logs(), /Lustre client not ready: .*Lustre modules do not answer/);

  const attemptsBefore = (await env.sim.mountAttempts()).length;
  const refused = await env.stage("pv-live", { source: FS1 }).catch((e) => e);
  assert.ok(refused instanceof CallError, `stage answered ${refused}`);
  assert.equal(refused.code, Code.FAILED_PRECONDITION);
  assert.match(
    refused.details,
    /^Cannot stage volume "pv-live" at "[^"]+": the Lustre client is not ready: Lustre modules do not answer: /,
  );
  assert.equal((await env.sim.mountAttempts()).length, attemptsBefore, "mount.lustre never ran");
  assert.deepEqual(await volumeMounts(env.kubeletDir), []);
  assert.ok(
    !(await env.driverMounts()).some((m) => m.startsWith(`${env.stateDir}/mounts/`)),
    "no shared mount",
  );

  // Loaded: the very next stage works, in the same driver process.
  await env.sim.fault("modules-missing", "off");
  const pid = env.driver.pid;
  const staging = await env.stage("pv-live", { source: FS1 });
  assert.equal(env.driver.pid, pid);
  assert.ok((await volumeMounts(env.kubeletDir)).includes(staging));
  assert.equal(await clientGauge(base), 1);
  assert.match(env.driver.logs(), /Lustre client ready: version/);
  await env.unstage("pv-live");
  assert.deepEqual(await volumeMounts(env.kubeletDir), []);
});
