/**
 * The README demo (`./scripts/demo`): starts the Lustre simulator and the
 * real node plugin in a mount namespace of its own, then makes the kubelet's
 * calls one by one over the CSI socket and says what each did. Run through
 * scripts/demo, which puts it in a private mount namespace; exits 1 when a
 * step fails.
 */
import { createHash } from "node:crypto";
import { CallError } from "../src/grpc/client.ts";
import { codeName } from "../src/csi/csi_error.ts";
import {
  Identity,
  Node,
  type NodeGetVolumeStatsResponse,
  VolumeCapability_AccessMode_Mode as Mode,
  VolumeUsage_Unit as Unit,
} from "../src/csi/gen/csi_pb.ts";
import { mountAt, type MountInfo, parseMountInfo } from "../src/mount/mountinfo.ts";
import { DRIVER_NAME } from "../src/version.ts";
import { DemoDriver, REPO, sh } from "./demo_driver.ts";

const PV = "pv-demo";
/** The static PV as the Klustre docs write it. */
const CONTEXT = { source: "10.0.0.1@tcp0:/fs1", mountOptions: "flock,user_xattr" };
const CAPABILITY = {
  accessType: { case: "mount" as const, value: { fsType: "", mountFlags: [] } },
  accessMode: { mode: Mode.MULTI_NODE_MULTI_WRITER },
};
const MESSAGE = "hello from pod-a\n";

/** A step that did not do what it should; the demo stops and cleans up. */
class StepFailed extends Error {
  override name = "StepFailed";
}

/** Paths of one demo run, all below a fresh temp directory. */
class Paths {
  constructor(readonly work: string) {}
  get sim() {
    return `${this.work}/sim`;
  }
  get kubelet() {
    return `${this.work}/kubelet`;
  }
  get state() {
    return `${this.work}/driver/state`;
  }
  get socket() {
    return `${this.work}/driver/csi.sock`;
  }
  get log() {
    return `${this.work}/driver/driver.log`;
  }
  /** Kubelet's staging path of a volume handle. */
  get staging() {
    const sha = createHash("sha256").update(PV).digest("hex");
    return `${this.kubelet}/plugins/kubernetes.io/csi/${DRIVER_NAME}/${sha}/globalmount`;
  }
  /** Kubelet's target path for a pod. */
  target(pod: string) {
    return `${this.kubelet}/pods/${pod}/volumes/kubernetes.io~csi/${PV}/mount`;
  }
  /** A path for printing: "$D/..." with the staging hash cut short. */
  short(path: string) {
    return path.replaceAll(this.work, "$D").replaceAll(/\/([0-9a-f]{8})[0-9a-f]{56}\//g, "/$1…/");
  }
}

/** Numbered steps, each printed with its outcome. */
class Steps {
  #count = 0;
  /** Set on Ctrl-C: no further step starts. */
  stopped = false;

  constructor(readonly paths: Paths) {}

  /** Runs one step and prints what happened; throws StepFailed on failure. */
  async run(title: string, work: () => Promise<string | string[]>): Promise<void> {
    if (this.stopped) throw new StepFailed("interrupted");
    const n = `${++this.#count}.`.padStart(3);
    const start = performance.now();
    let lines: string | string[];
    try {
      lines = await work();
    } catch (error) {
      const ms = Math.round(performance.now() - start);
      const why = error instanceof CallError
        ? `${codeName(error.code)}: ${error.details}`
        : (error as Error).message;
      console.log(`${n} ${title} -> FAILED after ${ms} ms:`);
      console.log(`      ${this.paths.short(why)}`);
      throw new StepFailed(why, { cause: error });
    }
    const ms = Math.round(performance.now() - start);
    if (typeof lines === "string") {
      console.log(`${n} ${title} -> OK in ${ms} ms: ${lines}`);
      return;
    }
    console.log(`${n} ${title} -> OK in ${ms} ms`);
    for (const line of lines) console.log(`      ${line}`);
  }
}

async function mountsOf(pid: number | "self"): Promise<MountInfo[]> {
  return parseMountInfo(await Deno.readTextFile(`/proc/${pid}/mountinfo`));
}

function below(mounts: MountInfo[], dir: string): MountInfo[] {
  return mounts.filter((m) => m.mountPoint.startsWith(`${dir}/`));
}

/** Every mount.lustre run the simulator logged, version queries (`-V`) excluded. */
async function lustreMounts(paths: Paths): Promise<{ argv: string[]; exit: number }[]> {
  const text = await Deno.readTextFile(`${paths.sim}/calls.jsonl`).catch(() => "");
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))
    .filter((c) =>
      c.cmd === "mount.lustre" && !c.argv.includes("-V") && !c.argv.includes("--version")
    );
}

function size(bytes: bigint): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1023.95 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function describeStats(r: NodeGetVolumeStatsResponse): string[] {
  const bytes = r.usage.find((u) => u.unit === Unit.BYTES);
  const inodes = r.usage.find((u) => u.unit === Unit.INODES);
  if (!bytes || !inodes) throw new Error("the answer lacks bytes or inodes");
  const condition = r.volumeCondition;
  if (!condition || condition.abnormal) {
    throw new Error(`volume condition is abnormal: ${condition?.message ?? "(none)"}`);
  }
  return [
    `bytes ${size(bytes.total)} total, ${size(bytes.available)} available, ` +
    `${size(bytes.used)} used`,
    `inodes ${inodes.total} total, ${inodes.used} used`,
    `condition normal: "${condition.message}"`,
  ];
}

/** One mountinfo line as two short ones: the mount point, then its fields. */
function describeMount(paths: Paths, m: MountInfo): string[] {
  return [
    `  ${paths.short(m.mountPoint)}`,
    `    dev ${m.major}:${m.minor}  root ${m.root}  ${
      m.options.join(",")
    }  ${m.fsType}  ${m.source}`,
  ];
}

/** The kubelet's sequence, step by step. */
async function walk(steps: Steps, driver: DemoDriver): Promise<void> {
  const paths = steps.paths;
  const call = driver.client.call.bind(driver.client);
  const staging = paths.staging;
  const [targetA, targetB] = [paths.target("pod-a"), paths.target("pod-b")];

  console.log("\nThe kubelet registers the plugin and checks it:");
  await steps.run("GetPluginInfo", async () => {
    const r = await call(Identity.method.getPluginInfo, {});
    return `${r.name} ${r.vendorVersion}`;
  });
  await steps.run("Probe", async () => {
    const r = await call(Identity.method.probe, {});
    if (r.ready) return "ready: the driver serves";
    const log = await Deno.readTextFile(paths.log).catch(() => "");
    const why = log.split("\n").filter((l) => l.includes("Not ready")).at(-1) ?? "";
    throw new Error(`not ready ${why ? JSON.parse(why).reasons : "(see the driver log)"}`);
  });
  await steps.run("NodeGetInfo", async () => {
    const r = await call(Node.method.nodeGetInfo, {});
    const topology = Object.entries(r.accessibleTopology?.segments ?? {})
      .map(([k, v]) => `${k}=${v}`).join(",");
    return `node ${r.nodeId}, topology ${topology}`;
  });

  console.log(`\nA static PV, written as the Klustre docs write it (ReadWriteMany):`);
  console.log(`  csi.volumeHandle: ${PV}`);
  console.log(
    `  csi.volumeAttributes: source=${CONTEXT.source} mountOptions=${CONTEXT.mountOptions}`,
  );
  console.log(`\nThe first pod using it is scheduled on this node:`);
  await steps.run(`NodeStageVolume ${PV}`, async () => {
    await Deno.mkdir(staging, { recursive: true });
    await call(Node.method.nodeStageVolume, {
      volumeId: PV,
      stagingTargetPath: staging,
      volumeCapability: CAPABILITY,
      volumeContext: CONTEXT,
    });
    const mounts = await lustreMounts(paths);
    const shared = below(await mountsOf(driver.pid), `${paths.state}/mounts`);
    const staged = mountAt(await mountsOf("self"), staging);
    if (mounts.length !== 1 || shared.length !== 1 || !staged) {
      throw new Error("expected one Lustre mount and a staging bind");
    }
    return [
      "Lustre mounted once, in the driver's own namespace:",
      `mount.lustre ${mounts[0].argv.map((a) => paths.short(a)).join(" ")}`,
      `then ${paths.short(staging)}`,
      `is bound from its root directory (mountinfo root "${staged.root}", as the shared`,
      `mount's "${shared[0].root}": the simulator serves fs1 from that directory)`,
    ];
  });
  for (
    const [pod, target, readonly] of [["pod-a", targetA, false], ["pod-b", targetB, true]] as const
  ) {
    await steps.run(
      `NodePublishVolume ${PV} -> ${pod}${readonly ? " (read-only)" : ""}`,
      async () => {
        await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
        await call(Node.method.nodePublishVolume, {
          volumeId: PV,
          stagingTargetPath: staging,
          targetPath: target,
          volumeCapability: CAPABILITY,
          readonly,
          volumeContext: CONTEXT,
        });
        const mount = mountAt(await mountsOf("self"), target);
        return [`bound from the staging path, ${mount?.options[0]}:`, paths.short(target)];
      },
    );
  }

  console.log("\nThe pods use the volume:");
  await steps.run("pod-a writes hello.txt", async () => {
    await Deno.writeTextFile(`${targetA}/hello.txt`, MESSAGE);
    return `${MESSAGE.length} bytes written`;
  });
  await steps.run("pod-b reads hello.txt", async () => {
    const text = await Deno.readTextFile(`${targetB}/hello.txt`);
    if (text !== MESSAGE) throw new Error(`read ${JSON.stringify(text)}`);
    return `"${text.trim()}": one file system, two pods`;
  });
  await steps.run("pod-b writes from-b.txt", async () => {
    try {
      await Deno.writeTextFile(`${targetB}/from-b.txt`, "should not land\n");
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EROFS") return "refused with EROFS (read-only file system), as it must be";
      throw error;
    }
    throw new Error("the write succeeded on a read-only publish");
  });
  await steps.run(`NodeGetVolumeStats ${PV} (pod-a)`, async () => {
    const r = await call(Node.method.nodeGetVolumeStats, {
      volumeId: PV,
      volumePath: targetA,
      stagingTargetPath: staging,
    });
    return describeStats(r);
  });

  console.log("\nWhat the kernel and the simulator saw:");
  await steps.run("/proc/self/mountinfo", async () => {
    const host = below(await mountsOf("self"), paths.kubelet);
    const shared = below(await mountsOf(driver.pid), `${paths.state}/mounts`);
    return [
      `${host.length} mounts below the kubelet dir, as kubelet sees them:`,
      ...host.flatMap((m) => describeMount(paths, m)),
      "and the shared Lustre mount, only in the driver's namespace:",
      ...shared.flatMap((m) => describeMount(paths, m)),
    ];
  });
  await steps.run("simulator call log (sim/calls.jsonl)", async () => {
    const count = (await lustreMounts(paths)).length;
    if (count !== 1) throw new Error(`mount.lustre ran ${count} times for 2 pods, not once`);
    return "mount.lustre ran 1 time for 2 pods";
  });

  console.log("\nThe pods end, the volume leaves the node:");
  for (const [pod, target] of [["pod-a", targetA], ["pod-b", targetB]] as const) {
    await steps.run(`NodeUnpublishVolume ${PV} <- ${pod}`, async () => {
      await call(Node.method.nodeUnpublishVolume, { volumeId: PV, targetPath: target });
      const gone = await Deno.lstat(target).then(() => false, () => true);
      if (!gone) throw new Error(`${paths.short(target)} is still there`);
      return "target unmounted and removed (rmdir)";
    });
  }
  await steps.run(`NodeUnstageVolume ${PV}`, async () => {
    await call(Node.method.nodeUnstageVolume, { volumeId: PV, stagingTargetPath: staging });
    return [
      "staging path unmounted; it was the shared Lustre mount's last user,",
      "so that is unmounted too",
    ];
  });
  await steps.run("nothing mounted any more", async () => {
    const host = below(await mountsOf("self"), paths.kubelet);
    const shared = below(await mountsOf(driver.pid), `${paths.state}/mounts`);
    const left = [...host, ...shared].map((m) => paths.short(m.mountPoint));
    if (left.length > 0) throw new Error(`still mounted: ${left.join(", ")}`);
    return ["no mount below the kubelet dir,", "no shared Lustre mount in the driver's namespace"];
  });
}

/** Lazily unmounts whatever is left below `dir`, deepest first. */
async function detachBelow(dir: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const points = (await mountsOf("self")).map((m) => m.mountPoint)
      .filter((p) => p === dir || p.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const point of points) await sh("umount", ["-l", point]).catch(() => undefined);
  }
}

async function main(): Promise<number> {
  const parentNs = Deno.env.get("KLUSTRE_DEMO_PARENT_NS");
  if (!parentNs || parentNs === await Deno.readLink("/proc/self/ns/mnt")) {
    console.error(
      "demo.ts makes real mounts: run it with ./scripts/demo (private mount namespace)",
    );
    return 2;
  }
  const started = performance.now();
  const paths = new Paths(await Deno.makeTempDir({ prefix: "klustre-demo-" }));
  let driver: DemoDriver | undefined;
  let simUp = false;
  let failed = false;
  let cleaning: Promise<void> | undefined;
  const steps = new Steps(paths);

  /** Stops the driver and the simulator; runs once, also on Ctrl-C. */
  const cleanup = () =>
    cleaning ??= (async () => {
      console.log("\nTeardown:");
      if (driver) {
        const code = await driver.stop();
        console.log(`  driver stopped with SIGTERM: exit ${code}`);
        if (code !== 0) failed = true;
      }
      if (simUp) {
        try {
          const { stdout: out } = await sh(`${REPO}/scripts/lustre-sim`, [
            "down",
            "--root",
            paths.sim,
          ]);
          console.log(`  ${paths.short(out.trim())}`);
        } catch (error) {
          console.log(`  lustre-sim down failed: ${(error as Error).message}`);
          failed = true;
        }
      }
      await detachBelow(paths.work);
    })();
  const interrupted = async () => {
    console.log("\nInterrupted.");
    steps.stopped = true;
    failed = true;
    await cleanup();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);

  console.log("klustre-csi demo: the kubelet's calls to the node plugin, on the Lustre simulator");
  console.log(`  $D = ${paths.work} (in a private mount namespace: nothing stays mounted)`);
  try {
    await Deno.mkdir(`${paths.work}/driver`);
    const { stdout: up } = await sh(`${REPO}/scripts/lustre-sim`, ["up", "--root", paths.sim]);
    simUp = true;
    console.log(`  simulator: ${paths.short(up.split("\n")[0])}`);
    await Deno.mkdir(paths.kubelet);
    await sh("mount", ["--bind", paths.kubelet, paths.kubelet]);
    await sh("mount", ["--make-shared", paths.kubelet]);
    console.log("  kubelet dir $D/kubelet is a shared mount, like /var/lib/kubelet on a node");
    const log = await Deno.open(paths.log, { write: true, create: true });
    driver = new DemoDriver({
      args: [
        ...["node", "--node-id", "demo-node", "--kubelet-dir", paths.kubelet],
        ...[
          "--state-dir",
          paths.state,
          "--path-env",
          `${paths.sim}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        ],
        ...["--log-level", "debug", "--shutdown-grace-ms", "5000"],
      ],
      socket: paths.socket,
      log,
    });
    await driver.waitReady(30_000);
    console.log(`  driver (pid ${driver.pid}) serves ${paths.short(paths.socket)}, in a mount`);
    console.log("  namespace of its own like the DaemonSet's container; log $D/driver/driver.log");
    await walk(steps, driver);
  } catch (error) {
    failed = true;
    if (!(error instanceof StepFailed)) {
      console.log(`Setup failed: ${paths.short((error as Error).message)}`);
    }
  }
  await cleanup();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failed) {
    const log = await Deno.readTextFile(paths.log).catch(() => "");
    console.log("\nLast lines of the driver log:");
    for (const l of log.trim().split("\n").slice(-8)) console.log(`  ${l}`);
    console.log(`\nDemo FAILED after ${seconds} s; files kept in ${paths.work}`);
    return 1;
  }
  await Deno.remove(paths.work, { recursive: true });
  console.log(
    `\nDemo passed in ${seconds} s: one Lustre mount served two pods, then nothing left.`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
