/**
 * Persistent Client Cache (hotNodes): a read-only dataset per (shared mount,
 * cache directory), its rule limited to each PCC volume's project ID, set
 * again as volumes come and go, deleted with the last one.
 */
import assert from "node:assert/strict";
import { Code } from "../src/csi/csi_error.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { errorMessage, statusCode } from "./support/calls.ts";

/** Runs a sim client tool in the namespace where the driver's Lustre mounts are (the keeper). */
async function clientTool(env: NodeEnv, tool: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("nsenter", {
    args: [
      `--mount=${env.host!.nsPath}`,
      "nsenter",
      `--mount=${env.stateDir}/keeper/ns`,
      `${env.sim.bin}/${tool}`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(output.code, 0, `${tool} ${args.join(" ")}: ${text.decode(output.stderr)}`);
  return text.decode(output.stdout);
}

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

async function pccList(env: NodeEnv): Promise<string> {
  const shared = (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/`));
  assert.equal(shared.length, 1, "one shared mount of fs1");
  const kept = `${env.stateDir}/keeper/mounts/${shared[0].slice(shared[0].lastIndexOf("/") + 1)}`;
  return await clientTool(env, "lctl", "pcc", "list", kept);
}

Deno.test("hotNodes: one read-only PCC dataset per mount and cache dir, limited to the PCC volumes' project IDs", async () => {
  await using env = await startNodeEnv();
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
  await using env = await startNodeEnv();
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
