/**
 * Persistent Client Cache (hotNodes): a read-only dataset per (shared mount,
 * cache directory), its rule limited to each PCC volume's project ID, set
 * again as volumes come and go, deleted with the last one.
 */
import assert from "node:assert/strict";
import { Code } from "../src/csi/csi_error.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { errorMessage, statusCode } from "./support/calls.ts";
import { REPO, tempDir } from "./support/driver.ts";
import { parseExposition } from "./support/prom_text.ts";
import { clientTool } from "./support/keeper_tool.ts";
import { writeVolData } from "./support/kubelet.ts";
import { statfsSync } from "node:fs";

/** A volume directory of fs1 with project ID `id` (as the controller makes them). */
async function projectDir(env: NodeEnv, name: string, id: number): Promise<string> {
  const subdir = await env.sim.mkdir("fs1", name);
  const staging = await env.stage(`setup-${name}`, { source: FS1, subdir });
  const lfs = await new Deno.Command(`${env.sim.bin}/lfs`, {
    args: ["project", "-p", String(id), "-s", "-r", staging],
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(lfs.code, 0, new TextDecoder().decode(lfs.stderr));
  await env.unstage(`setup-${name}`);
  return subdir;
}

/** The context of a hot (PCC) volume of fs1 with project ID `id`, caching in a new directory of the env. */
async function hotVolume(env: NodeEnv, name: string, id: number) {
  const cache = `${env.dir}/pcc-cache`;
  await Deno.mkdir(cache);
  return {
    source: FS1,
    hotNodes: "true",
    pccCache: cache,
    subdir: await projectDir(env, name, id),
  };
}

async function pccList(env: NodeEnv): Promise<string> {
  const shared = (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/`));
  assert.equal(shared.length, 1, "one shared mount of fs1");
  const kept = `${env.stateDir}/keeper/mounts/${shared[0].slice(shared[0].lastIndexOf("/") + 1)}`;
  return await clientTool(env, "lctl", "pcc", "list", kept);
}

/** Read-only PCC needs a 2.16 client. */
const V216 = { simState: { version: "2.16.1" } };

Deno.test("hotNodes: one read-only PCC dataset per mount and cache dir, limited to the PCC volumes' project IDs", async () => {
  await using env = await startNodeEnv(V216);
  const cache = `${env.dir}/pcc-cache`;
  await Deno.mkdir(cache);
  const hot = { source: FS1, hotNodes: "true", pccCache: cache, pccAutocache: "fname={*.h5}" };
  const a = { ...hot, subdir: await projectDir(env, "vol-a", 1000001) };
  const b = { ...hot, subdir: await projectDir(env, "vol-b", 1000002) };
  const plain = { source: FS1, subdir: await env.sim.mkdir("fs1", "vol-c") };

  await env.stage("pv-a", a);
  assert.match(
    await pccList(env),
    new RegExp(`^${cache}:\n.*autocache: fname=\\{\\*\\.h5\\}&projid=\\{1000001\\}$`, "ms"),
  );
  await env.stage("pv-b", b);
  await env.stage("pv-c", plain);
  const both = await pccList(env);
  assert.equal(both.split("\n").filter((l) => l.endsWith(":")).length, 1, "one dataset");
  assert.match(
    both,
    /autocache: fname=\{\*\.h5\}&projid=\{1000001\},fname=\{\*\.h5\}&projid=\{1000002\}/,
  );
  await env.stage("pv-a", a); // a retried stage leaves the dataset as it is
  assert.equal(await pccList(env), both);
  // Evicted: the shared mount is remounted by the next publish, a new instance gets the dataset again.
  await env.sim.fault("evict", "fs1");
  await env.publish("pv-c", "pod-c", plain);
  assert.equal(await pccList(env), both, "the replacement instance has the dataset");
  await env.unpublish("pv-c", "pod-c");

  await env.unstage("pv-a");
  assert.match(await pccList(env), /autocache: fname=\{\*\.h5\}&projid=\{1000002\}$/m);
  await env.unstage("pv-b");
  assert.equal(
    await pccList(env),
    "",
    "the last PCC volume took the dataset; the mount stays for pv-c",
  );
  await env.unstage("pv-c");
});

Deno.test("hotNodes: bad PCC parameters are refused naming them; a missing cache dir is FAILED_PRECONDITION", async () => {
  await using env = await startNodeEnv(V216);
  const hot = {
    source: FS1,
    hotNodes: "true",
    pccCache: `${env.dir}/none`,
    subdir: await projectDir(env, "vol-x", 1000003),
  };
  assert.equal(await statusCode(env.stage("pv-x", hot)), Code.FAILED_PRECONDITION);
  assert.match(
    await errorMessage(env.stage("pv-x", hot)),
    /pccCache\) is not a directory on this node/,
  );
  const rule = { ...hot, pccAutocache: "fname=*.h5" };
  assert.match(
    await errorMessage(env.stage("pv-x", rule)),
    /^3: .*"pccAutocache" is refused: rule term "fname=\*\.h5" is not KEY=\{VALUE \.\.\.\}/,
  );
  const marks = { ...hot, pccPurgeHighUsage: "60", pccPurgeLowUsage: "70" };
  assert.match(
    await errorMessage(env.stage("pv-x", marks)),
    /^3: .*"pccPurgeLowUsage" 70 must be below "pccPurgeHighUsage" 60/,
  );
  const stray = { source: FS1, pccCache: "/x" };
  assert.match(
    await errorMessage(env.stage("pv-x", stray)),
    /^3: .*"pccCache" needs hotNodes: "true"/,
  );
  await env.unstage("pv-x");
});

Deno.test("hotNodes: a client older than 2.16 is refused with FAILED_PRECONDITION naming its version", async () => {
  await using env = await startNodeEnv();
  const hot = await hotVolume(env, "vol-o", 1000004);
  assert.equal(await statusCode(env.stage("pv-o", hot)), Code.FAILED_PRECONDITION);
  assert.match(
    await errorMessage(env.stage("pv-o", hot)),
    /read-only PCC needs a Lustre client >= 2\.16\.0, this node has 2\.15\.6/,
  );
  await env.unstage("pv-o");
});

/** Reads files as a pod would through its client (`lustre-sim read`): "from lustre" or "from pcc". */
async function simRead(env: NodeEnv, file: string): Promise<string> {
  const output = await new Deno.Command(`${REPO}/scripts/lustre-sim`, {
    args: ["read", "--root", env.sim.root, file],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(output.code, 0, text.decode(output.stderr));
  return text.decode(output.stdout).replace(/^.*bytes from (\S+).*\n$/s, "$1");
}

/** Lustre read bytes of every instance (llite.*.stats read_bytes sum; 0 when none). */
async function lustreReadBytes(env: NodeEnv): Promise<number> {
  const stats = await clientTool(env, "lctl", "get_param", "llite.*.stats");
  return [...stats.matchAll(/^read_bytes\s+\d+ samples \[bytes\] \d+ \d+ (\d+)$/gm)]
    .reduce((sum, m) => sum + Number(m[1]), 0);
}

async function pccState(env: NodeEnv, file: string): Promise<string> {
  const output = await new Deno.Command(`${env.sim.bin}/lfs`, {
    args: ["pcc", "state", file],
    stdout: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return /type: (\w+)/.exec(new TextDecoder().decode(output.stdout))?.[1] ?? "?";
}

function usedPercent(dir: string): number {
  const st = statfsSync(dir);
  const used = st.blocks - st.bfree;
  return Math.ceil((used * 100) / (used + st.bavail));
}

Deno.test("hotNodes: the second read of a matching file adds no Lustre read bytes; the purge detaches the least recently used file below the low watermark", async () => {
  // A 1 MiB cache file system, made before the node so every namespace of it sees the same one.
  await using cacheDir = await tempDir("klustre-pcc-");
  const cache = `${cacheDir.path}/cache`;
  await Deno.mkdir(cache);
  const mounted = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", cache],
  }).output();
  assert.equal(mounted.code, 0, new TextDecoder().decode(mounted.stderr));
  const port = (() => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return listener.addr.port;
  })();
  await using env = await startNodeEnv({
    ...V216,
    driverArgs: ["--metrics-address", `127.0.0.1:${port}`],
  });
  const hot = {
    source: FS1,
    subdir: await projectDir(env, "vol-h5", 1000010),
    hotNodes: "true",
    pccCache: cache,
    pccAutocache: "fname={*.h5}",
    pccPurgeHighUsage: "70",
    pccPurgeLowUsage: "65",
    pccPurgeInterval: "1",
  };
  await env.stage("pv-h5", hot);
  const target = await env.publish("pv-h5", "pod-1", hot);
  const block = new Uint8Array(200 * 1024).fill(7);
  for (const name of ["f1.h5", "f2.h5", "f3.h5", "f4.h5"]) {
    await Deno.writeFile(`${target}/${name}`, block);
  }
  await Deno.writeTextFile(`${target}/notes.txt`, "not cached");

  assert.equal(await simRead(env, `${target}/f1.h5`), "lustre");
  assert.equal(await lustreReadBytes(env), 200 * 1024);
  assert.equal(await pccState(env, `${target}/f1.h5`), "readonly");
  assert.equal(await simRead(env, `${target}/f1.h5`), "pcc");
  assert.equal(await lustreReadBytes(env), 200 * 1024, "the second read costs no Lustre bytes");
  assert.equal(await simRead(env, `${target}/notes.txt`), "lustre");
  assert.equal(await pccState(env, `${target}/notes.txt`), "none", "the rule says *.h5 only");
  assert.equal(await lustreReadBytes(env), 200 * 1024 + 10);

  // f2, then f1 again (now more recent than f2), f3: 59% used, under the 70% mark.
  assert.equal(await simRead(env, `${target}/f2.h5`), "lustre");
  assert.equal(await simRead(env, `${target}/f1.h5`), "pcc");
  assert.equal(await simRead(env, `${target}/f3.h5`), "lustre");
  assert.ok(usedPercent(cache) < 70);
  assert.equal(await simRead(env, `${target}/f4.h5`), "lustre"); // 79%: above the mark
  const deadline = Date.now() + 30_000;
  while (usedPercent(cache) >= 65 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(
    usedPercent(cache) < 65,
    `the purge brought the cache under 65%: ${usedPercent(cache)}%`,
  );
  const states = await Promise.all(
    ["f1.h5", "f2.h5", "f3.h5", "f4.h5"].map((f) => pccState(env, `${target}/${f}`)),
  );
  assert.deepEqual(
    states,
    ["readonly", "none", "readonly", "readonly"],
    "f2 was the least recently used",
  );
  assert.equal(
    await Deno.readTextFile(`${target}/notes.txt`),
    "not cached",
    "the data stays on Lustre",
  );
  assert.equal((await Deno.readFile(`${target}/f2.h5`)).length, 200 * 1024);

  const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  assert.equal(metrics.get(`klustre_csi_pcc_purged_files_total{cache="${cache}"}`), 1);
  assert.equal(metrics.get(`klustre_csi_pcc_purges_total{cache="${cache}"}`), 1);
  assert.equal(metrics.get(`klustre_csi_pcc_cached_files{cache="${cache}"}`), 3);
  assert.equal(metrics.get(`klustre_csi_pcc_cache_bytes{cache="${cache}"}`), 3 * 200 * 1024);

  await env.unpublish("pv-h5", "pod-1");
  await env.unstage("pv-h5");
  assert.equal(usedPercent(cache), 0, "the last PCC volume leaving uncached every copy");
  await new Deno.Command("umount", { args: [cache] }).output();
});

Deno.test("hotNodes: a volume given a Lustre mount of its own (directory staged twice) is cached on that instance", async () => {
  await using env = await startNodeEnv(V216);
  const hot = await hotVolume(env, "vol-twice", 1000020);
  await env.stage("pv-one", hot);
  await env.stage("pv-two", hot); // same directory: unique_fsid gives pv-two its own mount
  const kept = (await env.keeperMounts()).filter((m) =>
    m.mountPoint.startsWith(`${env.stateDir}/keeper/mounts/`)
  ).map((m) => m.mountPoint);
  assert.equal(kept.length, 2, "the shared mount and pv-two's own");
  for (const mount of kept) {
    assert.match(
      await clientTool(env, "lctl", "pcc", "list", mount),
      /autocache: projid=\{1000020\}$/m,
      mount,
    );
  }
  await env.unstage("pv-two");
  await env.unstage("pv-one");
});

/** Runs `umount` where `ns` (an nsfs path, entered from the stand-in host) is; fails the test otherwise. */
async function umountIn(env: NodeEnv, ns: string[], path: string): Promise<void> {
  const output = await new Deno.Command("nsenter", {
    args: [
      `--mount=${env.host!.nsPath}`,
      ...ns.flatMap((n) => ["nsenter", `--mount=${n}`]),
      "umount",
      path,
    ],
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(output.code, 0, `umount ${path}: ${new TextDecoder().decode(output.stderr)}`);
}

Deno.test("hotNodes: a publish that stages again after the staging and shared mounts vanished sets the PCC dataset on the new mount", async () => {
  await using env = await startNodeEnv(V216);
  const hot = await hotVolume(env, "vol-gone", 1000030);
  const staging = await env.stage("pv-gone", hot);
  const attached = (await env.driverMounts()).filter((p) =>
    p.startsWith(`${env.stateDir}/mounts/`)
  );
  assert.equal(attached.length, 1, "one shared mount");
  const name = attached[0].slice(attached[0].lastIndexOf("/") + 1);
  const kept = `${env.stateDir}/keeper/mounts/${name}`;
  assert.match(await clientTool(env, "lctl", "pcc", "list", kept), /projid=\{1000030\}$/m);

  // Behind the driver's back: its staging bind, its view of the shared mount, and the kept mount.
  const driverNs = `/proc/${env.driver.pid}/ns/mnt`;
  await umountIn(env, [driverNs], staging);
  await umountIn(env, [driverNs], attached[0]);
  await umountIn(env, [`${env.stateDir}/keeper/ns`], kept);
  assert.ok(!(await env.keeperMounts()).some((m) => m.mountPoint === kept), "the instance is gone");

  // Kubelet still records the volume staged: its next publish stages it again, PCC included.
  await writeVolData(staging, "pv-gone");
  await env.publish("pv-gone", "pod-a", hot);
  const remade = (await env.keeperMounts()).filter((m) =>
    m.mountPoint.startsWith(`${env.stateDir}/keeper/mounts/`)
  ).map((m) => m.mountPoint);
  assert.equal(remade.length, 1, "a new shared mount");
  assert.match(
    await clientTool(env, "lctl", "pcc", "list", remade[0]),
    /autocache: projid=\{1000030\}$/m,
    "the new instance has the volume's dataset",
  );
  await env.unpublish("pv-gone", "pod-a");
  await env.unstage("pv-gone");
  assert.equal(
    (await env.keeperMounts()).filter((m) =>
      m.mountPoint.startsWith(`${env.stateDir}/keeper/mounts/`)
    ).length,
    0,
  );
});
