/**
 * Client tunables (`lustreParams`) and several client option sets on one
 * node: each set gets a shared mount (a client instance) of its own, the
 * tunables land on that instance only, whatever the staging order, and a
 * remounted stale mount is tuned again.
 */
import assert from "node:assert/strict";
import { Code } from "../src/csi/csi_error.ts";
import { FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { errorMessage, statusCode } from "./support/calls.ts";
import { mountsBelow } from "./support/kubelet.ts";
import { readTuningRecords } from "../src/node/client_tuning.ts";
import { parseExposition } from "./support/prom_text.ts";
import { clientTool } from "./support/keeper_tool.ts";

const TUNED = {
  source: FS1,
  lustreParams: "llite.max_read_ahead_mb=1024,osc.*.max_rpcs_in_flight=16",
};
const TUNED_AGAIN = {
  source: FS1,
  lustreParams: "osc.max_rpcs_in_flight=16 llite.max_read_ahead_mb=1024",
};
const PLAIN = { source: FS1 };
const NOFLOCK = { source: FS1, mountOptions: "noflock" };

/** `name=value` lines of `lctl get_param` as a map. */
async function getParam(env: NodeEnv, pattern: string): Promise<Map<string, string>> {
  const lines = (await clientTool(env, "lctl", "get_param", pattern)).trim().split("\n");
  return new Map(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

/** The driver's shared mounts of fs1, sorted. */
async function sharedMounts(env: NodeEnv): Promise<string[]> {
  return (await env.driverMounts()).filter((p) => p.startsWith(`${env.stateDir}/mounts/fs1-`))
    .sort();
}

Deno.test("lustreParams: tunables land on that volume's client instance only; option sets get their own shared mounts in any staging order", async () => {
  const port = (() => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return listener.addr.port;
  })();
  await using env = await startNodeEnv({ driverArgs: ["--metrics-address", `127.0.0.1:${port}`] });
  const volumes: [string, Record<string, string>][] = [
    ["pv-tuned", { ...TUNED }],
    ["pv-plain", { ...PLAIN }],
    ["pv-noflock", { ...NOFLOCK }],
    ["pv-tuned-2", { ...TUNED_AGAIN }],
  ];
  // One directory per PV, as kubelet needs (a directory staged twice collides).
  for (const [id, context] of volumes) context.subdir = await env.sim.mkdir("fs1", id);
  for (const [id, context] of volumes) await env.stage(id, context);
  const first = await sharedMounts(env);
  assert.equal(first.length, 3, "tuned, plain and noflock: three client instances");
  assert.equal((await env.sim.lustreMounts()).length, 3, "the same tunables share one instance");

  const [record] = await readTuningRecords(env.stateDir);
  assert.deepEqual(record.params, ["llite.max_read_ahead_mb=1024", "osc.max_rpcs_in_flight=16"]);
  const instance = `fs1-${record.instance}`;
  const readAhead = await getParam(env, "llite.*.max_read_ahead_mb");
  assert.equal(readAhead.size, 3);
  for (const [name, value] of readAhead) {
    assert.equal(value, name === `llite.${instance}.max_read_ahead_mb` ? "1024" : "256", name);
  }
  const rpcs = await getParam(env, "osc.*.max_rpcs_in_flight");
  for (const [name, value] of rpcs) {
    assert.equal(value, name.endsWith(`-osc-${record.instance}.max_rpcs_in_flight`) ? "16" : "8");
  }
  // The tuned volume's files come from that instance.
  assert.equal(
    (await clientTool(env, "lfs", "getname", `${env.stateDir}/keeper/mounts/${record.mount}`))
      .trim(),
    instance,
  );

  const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const info = [...metrics.keys()].filter((k) => k.startsWith("klustre_csi_shared_mount_info{"));
  assert.equal(info.length, 3, "one info series per shared mount");
  assert.ok(
    info.includes(
      `klustre_csi_shared_mount_info{fs="fs1",lustre_params="${
        record.params.join(",")
      }",mount="${record.mount}"}`,
    ),
    info.join("\n"),
  );

  for (const [id] of volumes) await env.unstage(id);
  assert.deepEqual(await sharedMounts(env), [], "every shared mount is released");
  assert.deepEqual(await readTuningRecords(env.stateDir), [], "and its tuning record");

  // The other way round: the same shared mounts (same paths), the tunables again.
  for (const [id, context] of [...volumes].reverse()) await env.stage(id, context);
  assert.deepEqual(await sharedMounts(env), first);
  const [again] = await readTuningRecords(env.stateDir);
  assert.equal(again.mount, record.mount);
  assert.equal((await getParam(env, `llite.fs1-${again.instance}.max_read_ahead_mb`)).size, 1);
  assert.deepEqual(
    [...(await getParam(env, `llite.fs1-${again.instance}.max_read_ahead_mb`)).values()],
    ["1024"],
  );
  for (const [id] of volumes) await env.unstage(id);
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("lustreParams: a stale shared mount's replacement is tuned again; a bad tunable is INVALID_ARGUMENT naming it", async () => {
  await using env = await startNodeEnv();
  await env.stage("pv-t", TUNED);
  await env.publish("pv-t", "pod-1", TUNED);
  const [before] = await readTuningRecords(env.stateDir);

  await env.sim.fault("evict", "fs1");
  const target = await env.publish("pv-t", "pod-2", TUNED); // repairs the stale mounts
  await Deno.writeTextFile(`${target}/after.txt`, "repaired");
  const [after] = await readTuningRecords(env.stateDir);
  assert.equal(after.mount, before.mount, "the same shared mount path");
  assert.notEqual(after.instance, before.instance, "a new client instance");
  assert.deepEqual(
    [...(await getParam(env, `llite.fs1-${after.instance}.max_read_ahead_mb`)).values()],
    ["1024"],
  );

  const bad = {
    source: FS1,
    lustreParams: "llite.max_read_ahead_mb=1024,mdc.max_rpcs_in_flight=8",
  };
  assert.equal(await statusCode(env.stage("pv-bad", bad)), Code.INVALID_ARGUMENT);
  assert.match(
    await errorMessage(env.stage("pv-bad", bad)),
    /"mdc\.max_rpcs_in_flight" is not an allowed/,
  );
  const range = { source: FS1, lustreParams: "osc.max_rpcs_in_flight=0" };
  assert.match(
    await errorMessage(env.stage("pv-bad", range)),
    /"osc\.max_rpcs_in_flight" value "0" is not a whole number from 1 to 512/,
  );
  for (const pod of ["pod-1", "pod-2"]) await env.unpublish("pv-t", pod);
  await env.unstage("pv-t");
  assert.deepEqual(await sharedMounts(env), []);
});

Deno.test("lustreParams: without a keeper namespace the driver tunes its own mount's instance", async () => {
  await using env = await startNodeEnv({ hostNamespace: false });
  await env.stage("pv-own", { ...TUNED });
  const [record] = await readTuningRecords(env.stateDir);
  const output = await new Deno.Command("nsenter", {
    args: [
      `--mount=/proc/${env.driver.pid}/ns/mnt`,
      `${env.sim.bin}/lctl`,
      "get_param",
      "-n",
      `llite.fs1-${record.instance}.max_read_ahead_mb`,
    ],
    stdout: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "1024");
  await env.unstage("pv-own");
  assert.deepEqual(await sharedMounts(env), []);
});
