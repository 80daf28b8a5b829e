/**
 * /metrics and /healthz of the real driver, scraped over HTTP while it
 * serves CSI calls against the Lustre simulator.
 */
import assert from "node:assert/strict";
import { Controller, Identity, Node } from "../src/csi/gen/csi_pb.ts";
import { CallError } from "../src/grpc/client.ts";
import { Code } from "../src/csi/csi_error.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { REPO, startDriver, tempDir } from "./support/driver.ts";
import { startSim } from "./support/sim.ts";
import { parseExposition, type Samples } from "./support/prom_text.ts";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import "./support/quiet_punycode.ts"; // before kubernetes-models
import { validate as validateService } from "kubernetes-models/_schemas/IoK8sApiCoreV1Service";
import { freePort } from "./support/free_port.ts";

/** A node whose driver serves metrics; returns it with its HTTP base URL. */
async function startMetricsNode(extraArgs: string[] = []) {
  const port = freePort();
  const env = await startNodeEnv({
    driverArgs: ["--metrics-address", `127.0.0.1:${port}`, ...extraArgs],
  });
  return { env, base: `http://127.0.0.1:${port}` };
}

/** Every sample of a scrape, which must parse as the Prometheus text format. */
async function scrape(base: string): Promise<Samples> {
  const response = await fetch(`${base}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

async function healthz(base: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}/healthz`);
  return { status: response.status, body: await response.text() };
}

/** Polls `check` every 50 ms until it holds (5 s at most). */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ops = (method: string, code: string) =>
  `klustre_csi_operations_total{method="${method}",code="${code}"}`;

async function stats(env: NodeEnv, volumeId: string, volumePath: string) {
  return await env.driver.client.call(Node.method.nodeGetVolumeStats, { volumeId, volumePath });
}

Deno.test("/metrics counts operations, mounts and abnormal volumes as calls happen", async () => {
  const { env, base } = await startMetricsNode();
  await using _env = env;
  const before = await scrape(base);
  assert.equal(before.get('klustre_csi_build_info{version="0.1.0"}'), 1);
  assert.equal(before.get("klustre_csi_volumes_abnormal"), 0);
  const context = { source: FS1 };
  const staging = await env.stage("pv-metrics", context);
  const target = await env.publish("pv-metrics", "pod-a", context);
  await env.publish("pv-metrics", "pod-b", context);
  await assert.rejects(
    env.publish("pv-unstaged", "pod-c", context),
    (e: CallError) => e.code === Code.FAILED_PRECONDITION,
  );
  assert.equal((await stats(env, "pv-metrics", target)).volumeCondition?.abnormal, false);

  const after = await scrape(base);
  const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
  assert.equal(delta(ops("NodeStageVolume", "OK")), 1);
  assert.equal(delta(ops("NodePublishVolume", "OK")), 2);
  assert.equal(delta(ops("NodePublishVolume", "FAILED_PRECONDITION")), 1);
  assert.equal(delta(ops("NodeGetVolumeStats", "OK")), 1);
  assert.equal(
    delta('klustre_csi_operation_duration_seconds_count{method="NodePublishVolume"}'),
    3,
  );
  assert.equal(
    after.get(
      'klustre_csi_operation_duration_seconds_bucket{method="NodePublishVolume",le="+Inf"}',
    ),
    3,
  );
  assert.equal(after.get('klustre_csi_operations_in_flight{method="NodePublishVolume"}'), 0);
  assert.equal(after.get('klustre_csi_lustre_mounts{fs="fs1"}'), 1);

  await env.sim.fault("evict", "fs1");
  assert.equal((await stats(env, "pv-metrics", staging)).volumeCondition?.abnormal, true);
  const evicted = await scrape(base);
  assert.equal(evicted.get("klustre_csi_volumes_abnormal"), 1);

  await env.unpublish("pv-metrics", "pod-a");
  await env.unpublish("pv-metrics", "pod-b");
  await env.unstage("pv-metrics");
  const gone = await scrape(base);
  assert.equal(gone.get("klustre_csi_volumes_abnormal"), 0, "an unstaged volume no longer counts");
  assert.equal(gone.get('klustre_csi_lustre_mounts{fs="fs1"}'), 0);
  const text = [...gone.keys()].join("\n");
  for (const secret of ["pv-metrics", "pv-unstaged", "10.0.0.1", "fs1-"]) {
    assert.ok(!text.includes(secret), `no "${secret}" in the metrics`);
  }
});

Deno.test("/healthz stays 200 with Probe while the modules are missing; the client gauge follows them", async () => {
  const { env, base } = await startMetricsNode(["--probe-cache-ms", "100"]);
  await using _env = env;
  const probe = async () => (await env.driver.client.call(Identity.method.probe, {})).ready;
  const gauge = "klustre_csi_lustre_client_ready";
  assert.deepEqual(await healthz(base), { status: 200, body: "ok\n" });
  assert.equal(await probe(), true);
  assert.equal((await scrape(base)).get(gauge), 1);

  await env.sim.fault("modules-missing", "on");
  await eventually("the gauge at 0", async () => (await scrape(base)).get(gauge) === 0);
  assert.deepEqual(await healthz(base), { status: 200, body: "ok\n" });
  assert.equal(await probe(), true);

  await env.sim.fault("modules-missing", "off");
  await eventually("the gauge at 1", async () => (await scrape(base)).get(gauge) === 1);
  assert.equal(await probe(), true);
});

Deno.test("/metrics counts a Lustre command killed at its timeout", async () => {
  const { env, base } = await startMetricsNode([
    "--probe-cache-ms",
    "1",
    "--probe-timeout-ms",
    "300",
  ]);
  await using _env = env;
  await env.sim.fault("hang", "on", "--cmd", "lctl");
  const series = 'klustre_csi_command_timeouts_total{command="lctl"}';
  await eventually("an lctl timeout", async () => {
    const samples = await scrape(base);
    return samples.get("klustre_csi_lustre_client_ready") === 0 && (samples.get(series) ?? 0) >= 1;
  });
  await env.sim.fault("hang", "off", "--cmd", "lctl");
});

Deno.test("/metrics of the controller counts CreateVolume and its own Lustre mount", async () => {
  await using dir = await tempDir();
  const sim = await startSim(`${dir.path}/sim`);
  try {
    const port = freePort();
    await using controller = await startDriver({
      dir: `${dir.path}/controller`,
      mode: "controller",
      ownNamespace: true,
      args: ["--path-env", sim.pathEnv, "--metrics-address", `127.0.0.1:${port}`],
    });
    await controller.client.call(Controller.method.createVolume, {
      name: "pvc-metrics",
      capacityRange: { requiredBytes: 1024n ** 3n },
      volumeCapabilities: [capability()],
      parameters: { source: FS1 },
    });
    const samples = await scrape(`http://127.0.0.1:${port}`);
    assert.equal(samples.get(ops("CreateVolume", "OK")), 1);
    assert.equal(samples.get('klustre_csi_lustre_mounts{fs="fs1"}'), 1);
  } finally {
    await sim[Symbol.asyncDispose]();
  }
});

Deno.test("the driver exits 1 when its metrics port is taken", async () => {
  await using dir = await tempDir();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const driver = await startDriver({
    dir: dir.path,
    args: ["--metrics-address", `127.0.0.1:${listener.addr.port}`, "--path-env", "/nonexistent"],
    waitReady: false,
  });
  const status = await driver.status;
  await driver.stop();
  assert.equal(status.code, 1);
  assert.match(driver.logs(), /Cannot serve metrics on/);
});

Deno.test("manifests/examples/servicemonitor.yaml scrapes the node plugins and the controller", async () => {
  // deno-lint-ignore no-explicit-any -- manifests are read field by field
  type Obj = Record<string, any>;
  const read = async (path: string) => await Deno.readTextFile(`${REPO}/${path}`);
  const [service, monitor] = parseAllDocuments(await read("manifests/examples/servicemonitor.yaml"))
    .map((d) => d.toJS() as Obj);
  const validate = validateService as ((data: unknown) => boolean) & { errors?: unknown };
  assert.ok(validate(service), JSON.stringify(validate.errors));
  const workloads = [
    parseYaml(await read("manifests/daemonset.yaml")) as Obj,
    parseYaml(await read("manifests/controller/deployment.yaml")) as Obj,
  ];
  const [servicePort] = service.spec.ports;
  for (const workload of workloads) {
    const pod = workload.spec.template;
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(pod.metadata.labels[key], value, `${workload.kind}: selected by ${key}`);
    }
    assert.equal(service.metadata.namespace, workload.metadata.namespace);
    const driver = pod.spec.containers.find((c: Obj) => c.name === "klustre-csi");
    const port = driver.ports.find((p: Obj) => p.name === servicePort.targetPort);
    assert.ok(port, `${workload.kind}: a port named ${servicePort.targetPort}`);
  }
  assert.equal(monitor.kind, "ServiceMonitor");
  assert.equal(monitor.metadata.namespace, service.metadata.namespace);
  for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) {
    assert.equal(service.metadata.labels[key], value, `the ServiceMonitor selects by ${key}`);
  }
  assert.equal(monitor.spec.endpoints[0].port, servicePort.name);
  assert.equal(monitor.spec.endpoints[0].path, "/metrics");
});
