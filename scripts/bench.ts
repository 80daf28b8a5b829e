/**
 * `deno task bench`: measures the node plugin against the Lustre simulator
 * (or a real Lustre with --source) and writes bench/results.json and
 * bench/results.md. Runs as root inside `unshare --mount --propagation
 * private`, like the tests, so no mount reaches the host.
 *
 * Usage: deno task bench [flags]
 *   --source MGS:/fs       Benchmark this real Lustre file system, not the simulator
 *   --subdir DIR           Directory inside it for the volumes (must exist)
 *   --mount-options LIST   The volumes' mountOptions attribute (e.g. flock,user_xattr)
 *   --path-env PATH        Where the real mount.lustre, lfs, lctl are (default /usr/sbin:/sbin:/usr/bin:/bin)
 *   --samples N            Sequential publishes, then unpublishes (default 100)
 *   --concurrency N        Calls at once in the concurrent run (default 32)
 *   --rounds N             Rounds of the concurrent run (default 4)
 *   --pods N               Publishes in the storm (default 200)
 *   --startup-runs N       Driver starts timed to Probe ready (default 3)
 *   --driver-arg ARG       Extra driver flag, repeatable (e.g. --driver-arg=--log-level=debug)
 *   --stats-volumes N      Staged and published volumes for the NodeGetVolumeStats run (default 500;
 *                          on a real Lustre the directories SUBDIR/bench-stats/0..N-1 must exist)
 *   --settle-seconds N     Wait after the storm's teardown before the settled memory sample (default 60)
 *   --out DIR              Where to write results.json and results.md (default bench)
 *   --entry bundle|source  What the driver runs (default bundle): the bundle of src/main.ts, as the
 *                          image is compiled from it (scripts/bundle.ts, written to a temp dir
 *                          outside the repo, so it can only run if it is self-contained), or
 *                          src/main.ts itself, to compare
 *   --controller on|off|only  The controller section (bench/bench_controller.ts; default on):
 *                          writes results_controller.json and .md; "only" runs just it
 *   --controller-creates N, --controller-files N  Its sizes (default 2000, 200000)
 */
import { parseArgs } from "node:util";
import { cpus } from "node:os";
import { parseLustreSource } from "../src/lustre/source.ts";
import { DRIVER_VERSION } from "../src/version.ts";
import { REPO, tempDir } from "../tests/support/driver.ts";
import { type Sim, startSim } from "../tests/support/sim.ts";
import { FS1 } from "../tests/support/node_env.ts";
import { BenchNode } from "../bench/bench_node.ts";
import { readRssKiB, readThreads } from "../bench/rss.ts";
import { concurrentLatency, publishStorm, sequentialLatency } from "../bench/scenarios.ts";
import { type BenchResults, formatMarkdown } from "../bench/report.ts";
import { median } from "../bench/stats.ts";
import { comparisonOf, formatComparison } from "../bench/report.ts";
import {
  BUNDLE_RUN_FLAGS,
  bundlePlan,
  readNodeTask,
  sourceWorkerModules,
  writeBundle,
} from "./bundle.ts";
import { statsAtScale } from "../bench/stats_scale.ts";
import { runControllerSection } from "../bench/controller_section.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    source: { type: "string" },
    subdir: { type: "string" },
    "mount-options": { type: "string" },
    "path-env": { type: "string", default: "/usr/sbin:/sbin:/usr/bin:/bin" },
    samples: { type: "string", default: "100" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "4" },
    pods: { type: "string", default: "200" },
    "startup-runs": { type: "string", default: "3" },
    "settle-seconds": { type: "string", default: "60" },
    "stats-volumes": { type: "string", default: "500" },
    "driver-arg": { type: "string", multiple: true, default: [] },
    out: { type: "string", default: `${REPO}/bench` },
    entry: { type: "string", default: "bundle" },
    controller: { type: "string", default: "on" },
    "controller-creates": { type: "string", default: "2000" },
    "controller-files": { type: "string", default: "200000" },
  },
  strict: true,
});

function count(flag: keyof typeof values): number {
  const n = Number(values[flag]);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${flag} must be a whole number >= 1`);
  return n;
}

const log = (message: string) => console.error(`bench: ${message}`);
const MiB = (kib: number) => Math.round(kib / 102.4) / 10;

async function requirePrivateNamespace(): Promise<void> {
  if (Deno.uid() !== 0) throw new Error("Run as root (the driver mounts), with `deno task bench`");
  const [own, init] = await Promise.all([
    Deno.readLink("/proc/self/ns/mnt"),
    Deno.readLink("/proc/1/ns/mnt").catch(() => ""),
  ]);
  if (own === init) {
    throw new Error(
      "Run inside a private mount namespace: `deno task bench` (unshare --mount --propagation private)",
    );
  }
}

async function main(): Promise<void> {
  await requirePrivateNamespace();
  const controller = () =>
    runControllerSection(values.out, {
      creates: count("controller-creates"),
      concurrent: 8,
      files: count("controller-files"),
    }, log);
  if (values.controller === "only") return await controller();
  const settings = {
    samples: count("samples"),
    concurrency: count("concurrency"),
    rounds: count("rounds"),
    pods: count("pods"),
    startupRuns: count("startup-runs"),
  };
  const settleSeconds = count("settle-seconds");
  if (values.entry !== "bundle" && values.entry !== "source") {
    throw new RangeError(`--entry must be bundle or source, not "${values.entry}"`);
  }
  const entryKind = values.entry;
  // The flags of the `node` task, which scripts/compile.ts builds the image with.
  const task = readNodeTask();
  const previous = await Deno.readTextFile(`${values.out}/results.json`)
    .then((text) => comparisonOf(JSON.parse(text) as BenchResults))
    .catch(() => undefined);
  const started = performance.now();
  await using dir = await tempDir("klustre-bench-");
  // The image's form: the bundle, outside the repo so that nothing resolves from its node_modules.
  let entry = `${REPO}/${task.entry}`;
  let denoFlags = task.flags;
  if (entryKind === "bundle") {
    const plan = bundlePlan(task.entry, sourceWorkerModules(task.entry), `${dir.path}/bundle`);
    await writeBundle(plan);
    entry = plan.main.output;
    denoFlags = [...BUNDLE_RUN_FLAGS, ...task.flags];
    log(`bundled ${task.entry} and ${plan.workers.length} Worker modules into ${dir.path}/bundle`);
  }
  let sim: Sim | undefined;
  const context: Record<string, string> = {};
  let target: string;
  if (values.source) {
    parseLustreSource(values.source);
    context.source = values.source;
    target = `Lustre ${values.source}`;
  } else {
    sim = await startSim(`${dir.path}/sim`);
    context.source = FS1;
    target = `Lustre simulator (scripts/lustre-sim), ${FS1}`;
  }
  if (values.subdir) context.subdir = values.subdir;
  if (values["mount-options"]) context.mountOptions = values["mount-options"];
  try {
    await using node = await BenchNode.create({
      dir: dir.path,
      sim,
      pathEnv: sim?.pathEnv ?? values["path-env"],
      driverArgs: values["driver-arg"],
      denoFlags,
      entry,
    });
    const mountsMade = sim
      ? async () => (await sim.lustreMounts()).length
      : () => Promise.resolve(node.lustreMountsLogged());

    const coldMs = Math.round(await node.startDriver());
    log(`driver start 0 (warm-up, may compile TypeScript): Probe ready after ${coldMs} ms`);
    const runsMs: number[] = [];
    for (let i = 0; i < settings.startupRuns; i++) {
      runsMs.push(Math.round(await node.startDriver()));
      log(`driver start ${i + 1}: Probe ready after ${runsMs.at(-1)} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleRssKiB = await readRssKiB(node.driver.pid);
    const idleThreads = await readThreads(node.driver.pid);
    log(`idle VmRSS ${MiB(idleRssKiB)} MiB`);
    // The DaemonSet's form: shared mounts in a keeper namespace made from the "host" one (here
    // the bench's own namespace); one more Worker thread holds it.
    let keeperIdleRssKiB: number | undefined;
    if (sim) {
      await node.startDriver(["--host-mount-namespace", `/proc/${Deno.pid}/ns/mnt`]);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      keeperIdleRssKiB = await readRssKiB(node.driver.pid);
      log(`idle VmRSS with the keeper namespace ${MiB(keeperIdleRssKiB)} MiB`);
      await node.startDriver();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }

    const sequential = await sequentialLatency(node, { id: "bench-seq", context }, {
      count: settings.samples,
    });
    log(
      `sequential: publish p50 ${sequential.publish.p50Ms} ms, p99 ${sequential.publish.p99Ms} ms`,
    );
    const concurrent = await concurrentLatency(node, { id: "bench-par", context }, settings);
    log(`${settings.concurrency} at once: publish p99 ${concurrent.publish.p99Ms} ms`);
    const storm = await publishStorm(node, { id: "bench-storm", context }, {
      pods: settings.pods,
      mountsMade,
    });
    log(
      `storm: ${storm.pods} pods in ${storm.wallMs} ms, ${storm.lustreMounts} Lustre mount(s), ` +
        `${storm.errors} errors, peak VmRSS ${MiB(storm.peakRssKiB)} MiB`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const afterStormRssKiB = await readRssKiB(node.driver.pid);
    const afterStormThreads = await readThreads(node.driver.pid);
    log(
      `1 s after the storm's teardown: VmRSS ${MiB(afterStormRssKiB)} MiB, ` +
        `${afterStormThreads} threads (idle: ${idleThreads})`,
    );
    await new Promise((resolve) => setTimeout(resolve, (settleSeconds - 1) * 1000));
    const settledRssKiB = await readRssKiB(node.driver.pid);
    const settledThreads = await readThreads(node.driver.pid);
    log(
      `${settleSeconds} s after the storm's teardown: VmRSS ${MiB(settledRssKiB)} MiB, ` +
        `${settledThreads} threads (idle: ${idleThreads})`,
    );

    // Each volume is a directory of its own, as static PVs of one file system are.
    const statsScale = await statsAtScale(node, "bench-stats", {
      volumes: count("stats-volumes"),
      concurrency: settings.concurrency,
      contextFor: async (i) => ({
        ...context,
        subdir: sim
          ? await sim.mkdir("fs1", `bench-stats/${i}`)
          : `${values.subdir ?? ""}/bench-stats/${i}`.replace(/^\//, ""),
      }),
      lfsPaths: sim
        ? async () => (await sim.calls()).filter((c) => c.cmd === "lfs").map((c) => c.argv)
        : undefined,
    });
    log(
      `stats of ${statsScale.volumes} volumes, ${statsScale.concurrency} at once: ` +
        `cold ${statsScale.cold.wallMs} ms (p50 ${statsScale.cold.latency.p50Ms} ms, ` +
        `${statsScale.cold.cpuSeconds} CPU s), warm ${statsScale.warm.wallMs} ms ` +
        `(p50 ${statsScale.warm.latency.p50Ms} ms, p99 ${statsScale.warm.latency.p99Ms} ms, ` +
        `${statsScale.warm.cpuSeconds} CPU s), warm one at a time p50 ` +
        `${statsScale.warmSequential?.latency.p50Ms} ms; GetPluginInfo at once p50 ` +
        `${statsScale.grpcFloor?.latency.p50Ms} ms; lfs runs ${
          statsScale.lfsCalls ?? "not counted"
        }, ` +
        `at most ${statsScale.maxLfsPerVolume ?? "?"} per volume; VmRSS ${statsScale.rssMiB} MiB`,
    );

    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      environment: {
        target,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model.trim() ?? "unknown",
        kernel: Deno.osRelease(),
        deno: Deno.version.deno,
        driverVersion: DRIVER_VERSION,
      },
      settings,
      startup: { coldMs, runsMs, medianMs: median(runsMs) },
      memory: {
        idleRssMiB: MiB(idleRssKiB),
        keeperIdleRssMiB: keeperIdleRssKiB === undefined ? undefined : MiB(keeperIdleRssKiB),
        stormPeakRssMiB: MiB(storm.peakRssKiB),
        afterStormRssMiB: MiB(afterStormRssKiB),
        idleThreads,
        afterStormThreads,
        settleSeconds,
        settledRssMiB: MiB(settledRssKiB),
        settledThreads,
      },
      denoFlags,
      entry: { kind: entryKind, module: task.entry },
      previous,
      sequential,
      concurrent,
      storm,
      statsScale,
      totalSeconds: Math.round((performance.now() - started) / 1000),
    };
    await Deno.mkdir(values.out, { recursive: true });
    await Deno.writeTextFile(`${values.out}/results.json`, JSON.stringify(results, null, 2) + "\n");
    await Deno.writeTextFile(`${values.out}/results.md`, formatMarkdown(results));
    // The committed file passes `deno fmt --check` as written.
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", `${values.out}/results.md`],
    })
      .output();
    for (const line of formatComparison(results)) log(line);
    log(`wrote ${values.out}/results.json and results.md in ${results.totalSeconds} s`);
  } finally {
    await sim?.[Symbol.asyncDispose]();
  }
  if (values.controller !== "off") await controller();
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
