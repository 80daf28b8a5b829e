/**
 * The simulator serves from the mount namespace where `lustre-sim up` ran: an export re-served
 * after an eviction by a client in another namespace lives on when that namespace goes away.
 * Run as root inside `unshare --mount --propagation private` (see deno.json "test").
 */
import assert from "node:assert/strict";
import { parseMountInfo } from "../scripts/lustre_sim/mountinfo.ts";
import { REPO, tempDir } from "./support/driver.ts";
import { startSim } from "./support/sim.ts";
import { FS1, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow } from "./support/kubelet.ts";

const SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(cmd: string, args: string[]): Promise<Result> {
  const out = await new Deno.Command(cmd, {
    args,
    env: { PATH: SYSTEM_PATH },
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a shell script in a new, private mount namespace that ends with it. */
function inChildNamespace(script: string): Promise<Result> {
  return exec("unshare", ["--mount", "--propagation", "private", "sh", "-c", script]);
}

async function ownMounts() {
  return parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo"));
}

/** Live processes whose environment marks them as the keeper of the simulator at `root`. */
async function keepersOf(root: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const env = await Deno.readTextFile(`/proc/${entry.name}/environ`).catch(() => "");
    if (env.split("\0").includes(`LUSTRE_SIM_SERVER=${root}`)) pids.push(Number(entry.name));
  }
  return pids;
}

Deno.test("mount.lustre re-serves an evicted file system in the simulator's namespace, not the caller's", async () => {
  await using dir = await tempDir("lustre-sim-ns-");
  await using sim = await startSim(`${dir.path}/sim`);
  const [a, b, c] = ["a", "b", "c"].map((n) => `${dir.path}/mnt/${n}`);
  for (const t of [a, b, c]) await Deno.mkdir(t, { recursive: true });
  const mount = `${sim.bin}/mount.lustre`;
  assert.equal((await exec(mount, [FS1, a])).code, 0);
  await Deno.writeTextFile(`${a}/f`, "on the server");
  await sim.fault("evict", "fs1");
  assert.throws(() => Deno.statSync(`${a}/f`), /not connected/);

  const child = await inChildNamespace(`${mount} ${FS1} ${c} && cat ${c}/f`);
  assert.equal(child.code, 0, child.stderr);
  assert.equal(child.stdout, "on the server", "the child reads through its fresh mount");

  // The child namespace is gone, but not the export it caused: that is here, where `up` ran.
  const r = await exec(mount, [FS1, b]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(`${b}/f`), "on the server");
  const exports = (await ownMounts()).filter((m) =>
    m.mountPoint === `${sim.root}/srv/fs1/export.1`
  );
  assert.equal(exports.length, 1, "the re-served export lives in the simulator's namespace");
  assert.equal(exports[0].fsType, "fuse.lustre");
  assert.equal((await ownMounts()).find((m) => m.mountPoint === b)?.dev, exports[0].dev);
});

Deno.test("lustre-sim down from another namespace removes the server's mounts and its keeper", async () => {
  await using dir = await tempDir("lustre-sim-ns-");
  const sim = await startSim(`${dir.path}/sim`);
  const a = `${dir.path}/a`;
  await Deno.mkdir(a);
  assert.equal((await exec(`${sim.bin}/mount.lustre`, [FS1, a])).code, 0);
  assert.equal((await keepersOf(sim.root)).length, 1, "up starts one keeper");
  const down = await inChildNamespace(`${REPO}/scripts/lustre-sim down --root ${sim.root}`);
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(
    (await ownMounts()).filter((m) => m.mountPoint.startsWith(`${dir.path}/`)).map((m) =>
      m.mountPoint
    ),
    [],
  );
  assert.deepEqual(await keepersOf(sim.root), []);
  assert.deepEqual([...Deno.readDirSync(sim.root)].map((e) => e.name), ["calls.jsonl"]);
});

Deno.test("a driver restarted after it re-served an evicted file system in its own namespace stages again", async () => {
  // Without a keeper namespace mount.lustre runs in the driver's own namespace, which dies with it.
  await using env = await startNodeEnv({ hostNamespace: false });
  const ctxA = { source: FS1, subdir: await env.sim.mkdir("fs1", "a") };
  const ctxB = { source: FS1, subdir: await env.sim.mkdir("fs1", "b") };
  await env.stage("pv-a", ctxA);
  const podA = await env.publish("pv-a", "pod-a", ctxA);
  await Deno.writeTextFile(`${podA}/kept.txt`, "written before the eviction");
  await env.sim.fault("evict", "fs1");
  await env.stage("pv-a", ctxA); // repairs the stale mount: the driver's mount.lustre re-serves fs1
  assert.equal((await env.sim.lustreMounts()).length, 2);

  assert.equal((await env.driver.stop("SIGKILL")).signal, "SIGKILL");
  await env.start();
  await env.stage("pv-b", ctxB);
  const podB = await env.publish("pv-b", "pod-b", ctxB);
  await Deno.writeTextFile(`${podB}/new.txt`, "written after the restart");
  assert.ok(
    (await ownMounts()).some((m) => m.mountPoint === `${env.sim.root}/srv/fs1/export.1`),
    "the re-served export lives in the simulator's namespace",
  );

  // And this namespace (another "node") can still mount the file system.
  await using mnt = await tempDir("lustre-sim-ns-");
  const r = await exec(`${env.sim.bin}/mount.lustre`, [FS1, mnt.path]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(`${mnt.path}/a/kept.txt`), "written before the eviction");
  assert.equal(await Deno.readTextFile(`${mnt.path}/b/new.txt`), "written after the restart");
  assert.equal((await exec("umount", [mnt.path])).code, 0);

  await env.unpublish("pv-a", "pod-a");
  await env.unpublish("pv-b", "pod-b");
  await env.unstage("pv-a");
  await env.unstage("pv-b");
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});
