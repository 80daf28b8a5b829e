/** ControllerModifyVolume (VolumeAttributesClass): what can change on a live volume, and what cannot. */
import assert from "node:assert/strict";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { statusCode } from "./support/calls.ts";
import { lfs, serverPath } from "./support/sim_files.ts";

const GiB = 1024n ** 3n;

/** Mounts fs1 as an admin's shell would; returns the mount path. */
async function adminMount(env: NodeEnv): Promise<string> {
  const path = `${env.dir}/admin-fs1`;
  await Deno.mkdir(path, { recursive: true });
  const out = await new Deno.Command(`${env.sim.bin}/mount.lustre`, {
    args: [FS1, path],
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(out.code, 0);
  return path;
}

/** The hard inode limit of a project, from `lfs quota -q -p ID MOUNT`. */
async function inodeLimit(env: NodeEnv, mount: string, projectId: number): Promise<string> {
  const tokens = (await lfs(env, "quota", "-q", "-p", String(projectId), mount)).trim().split(
    /\s+/,
  );
  return tokens[tokens.length - 2];
}

async function record(env: NodeEnv, name: string) {
  const dir = serverPath(env, "fs1", "/.klustre-csi/volumes");
  for await (const entry of Deno.readDir(dir)) {
    const r = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
    if (r.name === name) return r;
  }
  throw new Error(`no record of ${name}`);
}

Deno.test("ControllerModifyVolume() changes the inode limit, default striping and mode of a live volume; others are INVALID_ARGUMENT", async () => {
  await using env = await startNodeEnv({ controller: true, hostNamespace: false });
  const c = env.controller!.client;
  const caps = await c.call(Controller.method.controllerGetCapabilities, {});
  assert.ok(
    caps.capabilities.some((cap) => cap.type.case === "rpc" && cap.type.value.type === 14),
    "MODIFY_VOLUME is announced",
  );
  const { volume } = await c.call(Controller.method.createVolume, {
    name: "pvc-vac",
    capacityRange: { requiredBytes: GiB },
    volumeCapabilities: [capability()],
    parameters: { source: FS1, basePath: "k8s", stripeCount: "2", inodeQuota: "100" },
    mutableParameters: { inodeQuota: "200" },
  });
  const volumeId = volume!.volumeId;
  const mount = await adminMount(env);
  const { projectId } = await record(env, "pvc-vac");
  assert.equal(await inodeLimit(env, mount, projectId), "200", "mutable_parameters win at create");

  await c.call(Controller.method.controllerModifyVolume, {
    volumeId,
    mutableParameters: {
      inodeQuota: "500",
      stripeCount: "4",
      stripeSize: "1M",
      directoryMode: "0750",
    },
  });
  assert.equal(await inodeLimit(env, mount, projectId), "500");
  assert.match(
    await lfs(env, "getstripe", "-d", `${mount}/k8s/pvc-vac`),
    /stripe_count:\s+4 stripe_size:\s+1048576/,
  );
  assert.equal((await Deno.stat(serverPath(env, "fs1", "/k8s/pvc-vac"))).mode! & 0o7777, 0o750);
  // An expand keeps the new inode limit.
  await c.call(Controller.method.controllerExpandVolume, {
    volumeId,
    capacityRange: { requiredBytes: 2n * GiB },
  });
  assert.equal(await inodeLimit(env, mount, projectId), "500");

  for (
    const [mutableParameters, pattern] of [
      [{ onDelete: "retain" }, /parameter "onDelete" cannot be set by a VolumeAttributesClass/],
      [{ stripeCount: "many" }, /parameter "stripeCount" "many"/],
      [{ pool: "nope" }, /parameter "pool" "nope": file system "fs1" has no pool "nope"/],
    ] as const
  ) {
    const error = await c.call(Controller.method.controllerModifyVolume, {
      volumeId,
      mutableParameters,
    }).catch((e) => e);
    assert.ok(error instanceof CallError, JSON.stringify(mutableParameters));
    assert.equal(error.code, Code.INVALID_ARGUMENT, error.message);
    assert.match(error.message, pattern);
  }
  const refused = await c.call(Controller.method.createVolume, {
    name: "pvc-vac2",
    capacityRange: { requiredBytes: GiB },
    volumeCapabilities: [capability()],
    parameters: { source: FS1 },
    mutableParameters: { gid: "5" },
  }).catch((e) => e);
  assert.equal(refused.code, Code.INVALID_ARGUMENT);
  assert.match(refused.message, /parameter "gid" cannot be set by a VolumeAttributesClass/);
  assert.equal(
    await statusCode(
      c.call(Controller.method.controllerModifyVolume, {
        volumeId: "lustre.v1:10.0.0.1@tcp:/fs1/k8s//ghost",
        mutableParameters: { inodeQuota: "1" },
      }),
    ),
    Code.NOT_FOUND,
  );
});
