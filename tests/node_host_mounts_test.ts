/**
 * A node's own mount of a Lustre file system (an fstab mount on the host)
 * is invisible in the driver's namespace, but kubelet sees it when it
 * unstages. The driver reads the host's mount table (--host-mountinfo) so
 * that such a mount never wedges kubelet's unstage.
 */
import assert from "node:assert/strict";
import { tempDir } from "./support/driver.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow, unstageBlockers } from "./support/kubelet.ts";
import { parseMountInfo } from "../src/mount/mountinfo.ts";

/** A stand-in host: a process in a private mount namespace holding its own mount of FS1. */
interface Host extends AsyncDisposable {
  readonly pid: number;
  readonly mountPoint: string;
}

/**
 * Mounts FS1 with the simulator's mount.lustre at `mountPoint` in a fresh
 * private mount namespace (never the test's own), and points `table` at that
 * namespace's mountinfo.
 */
async function startHost(env: NodeEnv, mountPoint: string, table: string): Promise<Host> {
  await Deno.mkdir(mountPoint, { recursive: true });
  const child = new Deno.Command("unshare", {
    args: [
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      'mount.lustre "$0" "$1" && echo mounted && exec sleep 600',
      FS1,
      mountPoint,
    ],
    env: { PATH: env.sim.pathEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  };
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => stop(), 30_000);
  let output = "";
  try {
    while (!output.includes("mounted\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      output += value;
    }
  } finally {
    clearTimeout(timer);
  }
  if (!output.includes("mounted\n")) {
    const stderr = await new Response(child.stderr).text().catch(() => "");
    await stop();
    throw new Error(`The stand-in host could not mount ${FS1}: ${stderr}`);
  }
  child.stderr.cancel().catch(() => undefined);
  await Deno.symlink(`/proc/${child.pid}/mountinfo`, table);
  return {
    pid: child.pid,
    mountPoint,
    async [Symbol.asyncDispose]() {
      lines.cancel().catch(() => undefined);
      await stop();
    },
  };
}

/** The host's mount of FS1 in its own mount table. */
async function hostMount(host: Host) {
  const mounts = parseMountInfo(await Deno.readTextFile(`/proc/${host.pid}/mountinfo`));
  const mount = mounts.find((m) => m.mountPoint === host.mountPoint);
  assert.ok(mount, "the stand-in host shows its mount");
  return mount;
}

/** The driver's shared Lustre mounts. */
async function sharedMounts(env: NodeEnv): Promise<string[]> {
  return (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/`));
}

async function nodeWithHost(version: string) {
  const hostDir = await tempDir("klustre-host-");
  const table = `${hostDir.path}/host-mountinfo`;
  const env = await startNodeEnv({ driverArgs: ["--host-mountinfo", table] });
  await env.sim.fault("version", version);
  await env.driver.stop();
  await env.start();
  const host = await startHost(env, `${hostDir.path}/lustre`, table);
  return {
    env,
    host,
    async [Symbol.asyncDispose]() {
      await host[Symbol.asyncDispose]();
      await env[Symbol.asyncDispose]();
      await hostDir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("a whole-file-system volume is refused below Lustre 2.15.8 while the host mounts the file system", async () => {
  await using node = await nodeWithHost("2.15.7");
  const { env, host } = node;
  await assert.rejects(
    env.stage("pv-whole", { source: FS1 }),
    (error: Error) => {
      assert.match(error.message, /^9: /, "FAILED_PRECONDITION");
      assert.ok(
        error.message.includes(`the host has its own mount of "${FS1}" at "${host.mountPoint}"`),
        error.message,
      );
      assert.match(error.message, /kubelet could not unstage .*Lustre client >= 2\.15\.8/);
      return true;
    },
  );
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir], "nothing is staged");
  assert.deepEqual(await sharedMounts(env), [], "no Lustre mount is left behind");
  // A subdirectory has another root: it stages, and the host's mount of the
  // same file system does not keep the driver's shared mount after unstage.
  const sub = { source: FS1, subdir: await env.sim.mkdir("fs1", "team-a") };
  const staging = await env.stage("pv-sub", sub);
  assert.deepEqual(await unstageBlockers(staging), []);
  await env.unstage("pv-sub");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedMounts(env), []);
  await hostMount(host);
});

Deno.test("from Lustre 2.15.8 a whole-file-system volume beside a host mount gets a unique_fsid mount", async () => {
  await using node = await nodeWithHost("2.15.8");
  const { env, host } = node;
  const staging = await env.stage("pv-whole", { source: FS1 });
  const mounts = await env.sim.lustreMounts();
  const driverMount = mounts.find((c) => c.argv.some((a) => a.startsWith(env.stateDir)));
  assert.ok(driverMount, "the driver ran mount.lustre");
  assert.match(driverMount.argv.join(" "), /-o \S*unique_fsid/);
  const own = parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo"))
    .findLast((m) => m.mountPoint === staging);
  assert.ok(own, "the volume is staged");
  const onHost = await hostMount(host);
  assert.equal(own.root, onHost.root, "both show the file system's root");
  assert.notEqual(
    `${own.major}:${own.minor}`,
    `${onHost.major}:${onHost.minor}`,
    "kubelet cannot match the staging mount with the host's (another device)",
  );
  assert.deepEqual(await unstageBlockers(staging), []);
  await env.unstage("pv-whole");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.deepEqual(await sharedMounts(env), []);
});
