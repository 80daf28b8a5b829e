/**
 * A Lustre user flips a PV's directory between a real directory and
 * symlinks (to "/", the kubelet dir, another file system's shared mount)
 * while kubelet stages, publishes and unstages it: every mount the driver
 * makes shows the volume's own directory, or the call fails cleanly.
 */
import assert from "node:assert/strict";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { mountAt, type MountInfo, parseMountInfo } from "../src/mount/mountinfo.ts";
import { DENO, REPO } from "./support/driver.ts";
import { mountsBelow } from "./support/kubelet.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";

const ROUNDS = 500;
const FS2 = "10.0.0.1@tcp:/fs2";
/** What a refused call may answer while the directory is a symlink or changing. */
const REFUSALS = new Set<number>([Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.FAILED_PRECONDITION]);

/** A file system's directory as the simulator's server serves it (renames go through FUSE). */
function served(env: NodeEnv, fs: string, path: string): string {
  return `${env.sim.root}/srv/${fs}/export/${fs}/${path}`;
}

/** The driver's shared mount of a file system (in its own namespace). */
async function sharedMount(env: NodeEnv, fs: string): Promise<MountInfo> {
  const mounts = parseMountInfo(await Deno.readTextFile(`/proc/${env.driver.pid}/mountinfo`));
  const mount = mounts.find((m) => m.mountPoint.startsWith(`${env.stateDir}/mounts/${fs}-`));
  assert.ok(mount, `the driver has a shared mount of ${fs}`);
  return mount;
}

/** Stage or publish; true on success, false on an allowed refusal. */
async function attempt(call: Promise<unknown>, refusals: Map<number, number>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (error) {
    if (!(error instanceof CallError) || !REFUSALS.has(error.code)) throw error;
    refusals.set(error.code, (refusals.get(error.code) ?? 0) + 1);
    return false;
  }
}

Deno.test("a PV directory flipped to symlinks during 500 stage/publish/unstage rounds never binds anything else", async () => {
  await using env = await startNodeEnv();
  // Volumes that stay staged keep both shared mounts up (no mount.lustre per round).
  await env.sim.mkdir("fs1", "keep");
  await env.sim.mkdir("fs2", "etc");
  await Deno.writeTextFile(`${env.sim.root}/srv/fs2/backing store/fs2/etc/fs2-marker`, "fs2");
  await env.stage("pv-keep1", { source: FS1, subdir: "keep" });
  await env.stage("pv-keep2", { source: FS2 });
  const fs1 = await sharedMount(env, "fs1");
  const fs2 = await sharedMount(env, "fs2");
  for (const dir of ["flip/etc", "end"]) {
    await env.sim.mkdir("fs1", dir);
    await Deno.writeTextFile(`${env.sim.root}/srv/fs1/backing store/fs1/${dir}/marker`, dir);
  }
  const volumes = [
    // A symlink in the middle of the path: "flip" -> "/" would make it the host's /etc.
    { id: "pv-mid", subdir: "flip/etc", names: ["/flip/etc", "/hold-flip/etc"] },
    // A symlink as the last component.
    { id: "pv-end", subdir: "end", names: ["/end", "/hold-end"] },
  ];
  const stop = `${env.dir}/stop-flipping`;
  const specs = [
    {
      path: served(env, "fs1", "flip"),
      hold: served(env, "fs1", "hold-flip"),
      targets: ["/", env.kubeletDir, fs2.mountPoint],
    },
    {
      path: served(env, "fs1", "end"),
      hold: served(env, "fs1", "hold-end"),
      targets: ["/etc", env.kubeletDir, `${fs2.mountPoint}/etc`],
    },
  ];
  const flipper = new Deno.Command(DENO, {
    args: [
      "run",
      "-A",
      "--no-config",
      `${REPO}/tests/support/flip_dir.ts`,
      stop,
      JSON.stringify(specs),
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).spawn();
  const refusals = new Map<number, number>();
  let staged = 0;
  let published = 0;
  const rounds = async () => {
    /** The mount at `path` shows the volume's directory of fs1 and its marker, nothing else. */
    const check = async (path: string, volume: typeof volumes[number]) => {
      const mount = mountAt(parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo")), path);
      assert.ok(mount, `"${path}" is mounted`);
      assert.equal(`${mount.major}:${mount.minor}`, `${fs1.major}:${fs1.minor}`, "fs1's device");
      const roots = volume.names.map((name) => `${fs1.root === "/" ? "" : fs1.root}${name}`);
      assert.ok(roots.includes(mount.root), `root "${mount.root}" is the volume's directory`);
      assert.equal(await Deno.readTextFile(`${path}/marker`), volume.subdir);
      await assert.rejects(
        Deno.stat(`${path}/passwd`),
        Deno.errors.NotFound,
        "not the host's /etc",
      );
    };
    for (let round = 0; round < ROUNDS; round++) {
      const volume = volumes[round % volumes.length];
      const ctx = { source: FS1, subdir: volume.subdir };
      const staging = env.stage(volume.id, ctx);
      if (await attempt(staging, refusals)) {
        staged++;
        await check(await staging, volume);
        const target = env.publish(volume.id, `pod-${round % 4}`, ctx);
        if (await attempt(target, refusals)) {
          published++;
          await check(await target, volume);
        }
        await env.unpublish(volume.id, `pod-${round % 4}`);
      }
      await env.unstage(volume.id);
    }
  };
  const failure = await rounds().then(() => undefined, (error) => error);
  await Deno.writeTextFile(stop, ""); // the flipper stops even when a check failed
  const output = await flipper.output();
  if (failure) throw failure;
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const { flips } = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.ok(flips >= 100, `the directories were flipped (${flips} flips)`);
  assert.ok(
    staged > 0 && published > 0,
    `some rounds succeeded (${staged} stages, ${published} publishes)`,
  );
  assert.ok(refusals.size > 0, "some rounds met a symlink and were refused");
  console.log(`staged ${staged}, published ${published}, refused ${JSON.stringify([...refusals])}`);
  await env.unstage("pv-keep1");
  await env.unstage("pv-keep2");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir], "nothing is left mounted");
});
