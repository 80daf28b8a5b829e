/**
 * Client-side data compression (`compression`, Lustre 2.17): CreateVolume sets
 * it as the volume directory's default layout with lfs setstripe, and an older
 * client is refused with FAILED_PRECONDITION naming its version, by the
 * controller before it makes anything and by a node before it stages.
 */
import assert from "node:assert/strict";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { errorMessage, statusCode } from "./support/calls.ts";

const GiB = 1024n ** 3n;
const CLASS = { source: FS1, compression: "lz4:3", compressionChunk: "1M" };

function create(env: NodeEnv, name: string, parameters: Record<string, string>) {
  return env.controller!.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: GiB },
    volumeCapabilities: [capability()],
    parameters,
  });
}

Deno.test("compression: a 2.17 client gets the volume directory's default layout compressed; the node stages it", async () => {
  await using env = await startNodeEnv({ controller: true, simState: { version: "2.17.0" } });
  const { volume } = await create(env, "pvc-zip", CLASS);
  assert.equal(volume!.volumeContext.compression, "lz4:3");
  const staging = await env.stage(volume!.volumeId, volume!.volumeContext);
  const out = await new Deno.Command(`${env.sim.bin}/lfs`, {
    args: ["getstripe", "-d", staging],
    stdout: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const layout = new TextDecoder().decode(out.stdout);
  assert.match(layout, /lcme_flags:\s+compress$/m);
  assert.match(layout, /lcme_compr_type:\s+lz4$/m);
  assert.match(layout, /lcme_compr_lvl:\s+3$/m);
  assert.match(layout, /lcme_compr_chunk_kb:\s+1024$/m);
  await env.unstage(volume!.volumeId);
});

Deno.test("compression: a client older than 2.17 is refused with FAILED_PRECONDITION naming its version, by the controller and by a node", async () => {
  await using env = await startNodeEnv({ controller: true });
  assert.equal(await statusCode(create(env, "pvc-old", CLASS)), Code.FAILED_PRECONDITION);
  assert.match(
    await errorMessage(create(env, "pvc-old", CLASS)),
    /compression "lz4:3" needs client-side data compression, which Lustre clients have from 2\.17\.0; this client is 2\.15\.6/,
  );
  const dirs = [];
  for await (const e of Deno.readDir(`${env.sim.root}/srv/fs1/backing store/fs1`)) {
    if (!e.name.startsWith(".")) dirs.push(e.name);
  }
  assert.deepEqual(dirs, [], "nothing was made");
  assert.equal(
    await statusCode(env.stage("pv-zip", { source: FS1, compression: "lz4:3" })),
    Code.FAILED_PRECONDITION,
  );
  assert.match(
    await errorMessage(env.stage("pv-zip", { source: FS1, compression: "lz4:3" })),
    /^9: Cannot stage volume "pv-zip": .*this client is 2\.15\.6/,
  );
  const bad = { source: FS1, compression: "brotli" };
  assert.match(
    await errorMessage(create(env, "pvc-bad", bad)),
    /^3: .*parameter "compression" "brotli" is refused: it is not TYPE\[:LEVEL\]/,
  );
});
