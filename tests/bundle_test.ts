/**
 * The driver in the form the image runs: the bundle of src/main.ts and of its
 * Worker modules (scripts/bundle.ts), written outside the repository so that
 * nothing can resolve from its node_modules, started against the simulator.
 * Publish loads the mount Worker and stats the file-system gate's Worker, both
 * from the bundle's directory. The first `deno bundle` on a machine downloads
 * esbuild from the npm registry: without the network this test fails, saying so.
 */
import assert from "node:assert/strict";
import { Node } from "../src/csi/gen/csi_pb.ts";
import {
  BUNDLE_RUN_FLAGS,
  bundlePlan,
  readNodeTask,
  sourceWorkerModules,
  writeBundle,
} from "../scripts/bundle.ts";
import { REPO, tempDir } from "./support/driver.ts";
import { mountsBelow } from "./support/kubelet.ts";
import { FS1, startNodeEnv } from "./support/node_env.ts";

/** Starts module `path` as a Worker, as the bundled driver does; reports an error within 1 s. */
const LOADER = `const worker = new Worker(new URL("file://" + Deno.args[0]), { type: "module" });
worker.onerror = (event) => { event.preventDefault(); console.log(event.message); Deno.exit(1); };
setTimeout(() => Deno.exit(0), 1000);
`;

/** The error a Worker of module `path` reports within a second of starting, if any. */
async function workerLoadError(dir: string, path: string): Promise<string | undefined> {
  await Deno.writeTextFile(`${dir}/load_worker.js`, LOADER);
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-check", "--allow-all", `${dir}/load_worker.js`, path],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  return output.code === 0
    ? undefined
    : `${path}: ${text.decode(output.stdout)}${text.decode(output.stderr)}`;
}

Deno.test("the bundle, outside the repo, publishes a volume, answers its stats and cleans up", async () => {
  await using bundle = await tempDir("klustre-bundle-");
  assert.ok(!bundle.path.startsWith(`${REPO}/`), "the bundle is outside the repository");
  const task = readNodeTask();
  const plan = bundlePlan(task.entry, sourceWorkerModules(task.entry), bundle.path);
  await writeBundle(plan);
  for (const step of [plan.main, ...plan.workers]) {
    assert.ok((await Deno.stat(step.output)).isFile, `${step.entry} bundled to ${step.output}`);
  }
  // Every Worker module loads from the bundle (publish and stats below run two of them).
  for (const step of plan.workers) {
    assert.equal(await workerLoadError(bundle.path, step.output), undefined);
  }
  await Deno.writeTextFile(`${bundle.path}/broken.ts`, 'import "./missing.js";');
  assert.match(await workerLoadError(bundle.path, `${bundle.path}/broken.ts`) ?? "", /missing/);

  await using env = await startNodeEnv({
    driver: { entry: plan.main.output, denoFlags: [...BUNDLE_RUN_FLAGS, ...task.flags] },
  });
  const argv = (await Deno.readTextFile(`/proc/${env.driver.pid}/cmdline`)).split("\0");
  assert.ok(argv.includes(plan.main.output), `the driver runs the bundle: ${argv.join(" ")}`);

  const subdir = await env.sim.mkdir("fs1", "bundled");
  const serverDir = `${env.sim.root}/srv/fs1/backing store/fs1/${subdir}`;
  await Deno.writeTextFile(`${serverDir}/from-server.txt`, "written on the server");
  const context = { source: FS1, subdir };
  const staging = await env.stage("pv-bundle", context);
  const target = await env.publish("pv-bundle", "pod-1", context);
  assert.equal(await Deno.readTextFile(`${target}/from-server.txt`), "written on the server");
  assert.ok((await mountsBelow(env.kubeletDir)).includes(target), "the target is mounted");

  const stats = await env.driver.client.call(Node.method.nodeGetVolumeStats, {
    volumeId: "pv-bundle",
    volumePath: target,
    stagingTargetPath: staging,
  });
  const bytes = stats.usage.find((u) => u.unit === 1);
  assert.ok(bytes && bytes.total > 0n, `byte usage in ${JSON.stringify(stats.usage, bigints)}`);
  assert.equal(stats.volumeCondition?.abnormal, false, stats.volumeCondition?.message ?? "");

  await env.unpublish("pv-bundle", "pod-1");
  await env.unstage("pv-bundle");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir], "nothing left mounted");
  const held = (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/`));
  assert.deepEqual(held, [], "the driver released its shared Lustre mount");
});

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? String(value) : value;
}
