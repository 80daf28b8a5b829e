/** Dynamic provisioning through both sockets, against the simulator. */
import assert from "node:assert/strict";
import {
  Controller,
  Node,
  VolumeCapability_AccessMode_Mode as Mode,
} from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { mountsBelow } from "./support/kubelet.ts";
import { statusCode } from "./support/calls.ts";
import { lfs, serverPath } from "./support/sim_files.ts";

const GiB = 1024n ** 3n;

function create(env: NodeEnv, name: string, parameters: Record<string, string>, bytes = GiB) {
  return env.controller!.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: bytes },
    volumeCapabilities: [capability()],
    parameters,
  });
}

Deno.test("ControllerGetCapabilities() lists create/delete, expand and modify", async () => {
  await using env = await startNodeEnv({ controller: true });
  const caps = await env.controller!.client.call(Controller.method.controllerGetCapabilities, {});
  const types = caps.capabilities.map((c) => c.type.case === "rpc" ? c.type.value.type : -1);
  assert.deepEqual(types.sort((a, b) => a - b), [1, 9, 14]);
});

Deno.test("a dynamic volume lives its whole life: create, stage, publish, write, stats, expand, delete", async () => {
  await using env = await startNodeEnv({ controller: true });
  const parameters = {
    source: FS1,
    basePath: "k8s",
    stripeCount: "2",
    stripeSize: "4M",
    inodeQuota: "10000",
    "csi.storage.k8s.io/pv/name": "pvc-1111",
    "csi.storage.k8s.io/pvc/name": "data",
    "csi.storage.k8s.io/pvc/namespace": "team-a",
  };
  const { volume } = await create(env, "pvc-1111", parameters);
  assert.ok(volume);
  assert.equal(volume.volumeId, "lustre.v1:10.0.0.1@tcp:/fs1/k8s//pvc-1111");
  assert.equal(volume.capacityBytes, GiB);
  assert.deepEqual(volume.volumeContext, { source: FS1, subdir: "k8s/pvc-1111" });
  const dir = serverPath(env, "fs1", "/k8s/pvc-1111");
  assert.ok((await Deno.stat(dir)).isDirectory);

  const context = volume.volumeContext;
  const staging = await env.stage(volume.volumeId, context);
  const target = await env.publish(volume.volumeId, "pod-1", context);
  await Deno.writeTextFile(`${target}/file.txt`, "x".repeat(10000));
  assert.equal(await Deno.readTextFile(`${dir}/file.txt`), "x".repeat(10000));
  const project = await lfs(env, "project", "-d", target);
  assert.match(project, /^\s*\d+ P /);
  const projectId = project.trim().split(/\s+/)[0];
  const quota = await lfs(env, "quota", "-p", projectId, target);
  assert.match(quota, /1048576/);
  assert.match(
    await lfs(env, "getstripe", "-d", target),
    /stripe_count:\s+2 stripe_size:\s+4194304/,
  );

  const stats = await env.driver.client.call(Node.method.nodeGetVolumeStats, {
    volumeId: volume.volumeId,
    volumePath: target,
    stagingTargetPath: staging,
  });
  const bytes = stats.usage.find((u) => u.unit === 1)!;
  assert.equal(bytes.total, GiB, "stats report the project quota as the size");
  assert.ok(bytes.used >= 10000n);

  const grown = await env.controller!.client.call(Controller.method.controllerExpandVolume, {
    volumeId: volume.volumeId,
    capacityRange: { requiredBytes: 2n * GiB },
  });
  assert.equal(grown.capacityBytes, 2n * GiB);
  assert.equal(grown.nodeExpansionRequired, false);
  assert.match(await lfs(env, "quota", "-p", projectId, target), /2097152/);
  const again = await env.driver.client.call(Node.method.nodeGetVolumeStats, {
    volumeId: volume.volumeId,
    volumePath: target,
  });
  assert.equal(again.usage.find((u) => u.unit === 1)!.total, 2n * GiB);

  await env.unpublish(volume.volumeId, "pod-1");
  await env.unstage(volume.volumeId);
  await env.controller!.client.call(Controller.method.deleteVolume, { volumeId: volume.volumeId });
  await assert.rejects(Deno.lstat(dir), Deno.errors.NotFound);
  await env.controller!.client.call(Controller.method.deleteVolume, { volumeId: volume.volumeId });
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
});

Deno.test("CreateVolume() is idempotent by name; a different size or parameters is ALREADY_EXISTS", async () => {
  await using env = await startNodeEnv({ controller: true });
  const parameters = { source: FS1 };
  const first = await create(env, "pvc-idem", parameters);
  const second = await create(env, "pvc-idem", parameters);
  assert.deepEqual(second.volume?.volumeId, first.volume?.volumeId);
  const bigger = await create(env, "pvc-idem", parameters, 2n * GiB).catch((e) => e);
  assert.equal(bigger.code, Code.ALREADY_EXISTS);
  assert.match(bigger.message, /: capacity 1073741824 recorded, 2147483648 requested$/);
  const striped = await create(env, "pvc-idem", { ...parameters, stripeCount: "4" }).catch((e) =>
    e
  );
  assert.equal(striped.code, Code.ALREADY_EXISTS);
  assert.match(striped.message, /parameter "stripeCount": \(not set\) recorded, 4 requested$/);
  await Deno.mkdir(serverPath(env, "fs1", "/pvc-foreign"));
  assert.equal(
    await statusCode(create(env, "pvc-foreign", parameters)),
    Code.ALREADY_EXISTS,
    "a directory the driver did not make is never taken over",
  );
});

Deno.test("50 concurrent CreateVolume calls get 50 distinct project IDs", async () => {
  await using env = await startNodeEnv({ controller: true });
  const names = Array.from({ length: 50 }, (_, i) => `pvc-c${i}`);
  const volumes = await Promise.all(
    names.map((name) =>
      create(env, name, { source: FS1, basePath: "k8s", projectIdRange: "5000-5063" })
    ),
  );
  assert.equal(volumes.length, 50);
  const view = await mountClient(env, "fs1");
  const ids = new Set<string>();
  for (const name of names) {
    const line = await lfs(env, "project", "-d", `${view}/k8s/${name}`);
    ids.add(line.trim().split(/\s+/)[0]);
  }
  assert.equal(ids.size, 50);
  for (const id of ids) assert.ok(Number(id) >= 5000 && Number(id) <= 5063);
});

/** Mounts a file system through the simulator's mount.lustre, as an admin's shell would. */
async function mountClient(env: NodeEnv, fs: string): Promise<string> {
  const path = `${env.dir}/admin-${fs}`;
  await Deno.mkdir(path, { recursive: true });
  const out = await new Deno.Command(`${env.sim.bin}/mount.lustre`, {
    args: [`10.0.0.1@tcp:/${fs}`, path],
    signal: AbortSignal.timeout(30_000),
  }).output();
  assert.equal(out.code, 0);
  return path;
}

Deno.test("a restart in the middle of a create, then a retry, gives one directory", async () => {
  await using env = await startNodeEnv({ controller: true });
  // Every lfs call takes 5 s: the kill lands after the record and mkdir, in `lfs project`.
  await env.sim.fault("slow", "--delay-ms", "5000", "--cmd", "lfs");
  const pending = create(env, "pvc-crash", { source: FS1, basePath: "k8s" }).catch((e) => e);
  const dir = serverPath(env, "fs1", "/k8s/pvc-crash");
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await Deno.lstat(dir).then(() => true, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await env.controller!.stop("SIGKILL");
  assert.ok(await pending instanceof Error, "the create did not finish before the kill");
  const records = serverPath(env, "fs1", "/.klustre-csi/volumes");
  const states = async () => {
    const out = [];
    for await (const entry of Deno.readDir(records)) {
      out.push(JSON.parse(await Deno.readTextFile(`${records}/${entry.name}`)).state);
    }
    return out;
  };
  assert.deepEqual(await states(), ["creating"]);
  await env.sim.fault("slow", "off");
  await env.startController();
  const { volume } = await create(env, "pvc-crash", { source: FS1, basePath: "k8s" });
  const entries = [];
  for await (const entry of Deno.readDir(serverPath(env, "fs1", "/k8s"))) entries.push(entry.name);
  assert.deepEqual(entries, ["pvc-crash"]);
  assert.equal(volume?.capacityBytes, GiB);
  assert.deepEqual(await states(), ["ready"], "one record, finished");
});

Deno.test("DeleteVolume() follows onDelete: retain keeps, archive moves aside, and foreign IDs are safe", async () => {
  await using env = await startNodeEnv({ controller: true });
  const c = env.controller!.client;
  const retained = await create(env, "pvc-keep", {
    source: FS1,
    basePath: "k8s",
    onDelete: "retain",
  });
  await Deno.writeTextFile(serverPath(env, "fs1", "/k8s/pvc-keep/data"), "keep me");
  await c.call(Controller.method.deleteVolume, { volumeId: retained.volume!.volumeId });
  assert.equal(await Deno.readTextFile(serverPath(env, "fs1", "/k8s/pvc-keep/data")), "keep me");

  const archived = await create(env, "pvc-arch", {
    source: FS1,
    basePath: "k8s",
    onDelete: "archive",
  });
  await Deno.writeTextFile(serverPath(env, "fs1", "/k8s/pvc-arch/data"), "archive me");
  await c.call(Controller.method.deleteVolume, { volumeId: archived.volume!.volumeId });
  await assert.rejects(Deno.lstat(serverPath(env, "fs1", "/k8s/pvc-arch")), Deno.errors.NotFound);
  const archive = [];
  for await (const entry of Deno.readDir(serverPath(env, "fs1", "/k8s/.archive"))) {
    archive.push(entry.name);
  }
  assert.equal(archive.length, 1);
  assert.match(archive[0], /^pvc-arch-\d{8}T\d{6}Z$/);
  assert.equal(
    await Deno.readTextFile(serverPath(env, "fs1", `/k8s/.archive/${archive[0]}/data`)),
    "archive me",
  );

  const doomed = await create(env, "pvc-del", { source: FS1, basePath: "k8s" });
  await Deno.mkdir(serverPath(env, "fs1", "/outside"));
  await Deno.writeTextFile(serverPath(env, "fs1", "/outside/precious"), "not the volume's");
  await Deno.symlink("../../outside", serverPath(env, "fs1", "/k8s/pvc-del/link"));
  await c.call(Controller.method.deleteVolume, { volumeId: doomed.volume!.volumeId });
  // The purger deletes the tree in the background: wait for it, then look outside.
  const trash = serverPath(env, "fs1", "/.klustre-csi/trash");
  const deadline = Date.now() + 60_000;
  while ([...Deno.readDirSync(trash)].length > 0) {
    assert.ok(Date.now() < deadline, "the trash was not purged within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(
    await Deno.readTextFile(serverPath(env, "fs1", "/outside/precious")),
    "not the volume's",
  );

  assert.equal(
    await statusCode(c.call(Controller.method.deleteVolume, { volumeId: "reallyfakevolumeid" })),
    Code.OK,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.deleteVolume, {
        volumeId: "lustre.v1:10.0.0.1@tcp:/fs1/k8s//never-made",
      }),
    ),
    Code.OK,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.deleteVolume, { volumeId: "lustre.v1:10.0.0.1@tcp:/fs1//outside" }),
    ),
    Code.FAILED_PRECONDITION,
    "a directory the driver did not provision is refused",
  );
  assert.equal(
    await Deno.readTextFile(serverPath(env, "fs1", "/outside/precious")),
    "not the volume's",
  );
  assert.equal(
    await statusCode(c.call(Controller.method.deleteVolume, { volumeId: "" })),
    Code.INVALID_ARGUMENT,
  );
});

Deno.test("CreateVolume() refuses each bad parameter by name", async () => {
  await using env = await startNodeEnv({ controller: true });
  const c = env.controller!.client;
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /"source" is required/],
    [{ source: "nope" }, /parameter "source" "nope"/],
    [{ source: FS1, colour: "red" }, /parameter "colour" is not known/],
    [{ source: FS1, basePath: "../etc" }, /parameter "basePath"/],
    [{ source: FS1, subdirTemplate: "${pvc.metadata.name}" }, /--extra-create-metadata/],
    [
      { source: FS1, subdirTemplate: "${pvc.metadata.uid}" },
      /placeholder "\$\{pvc\.metadata\.uid\}"/,
    ],
    [{ source: FS1, subdirTemplate: "../${pv.metadata.name}" }, /"\.\."/],
    [{ source: FS1, projectIdRange: "10-5" }, /parameter "projectIdRange"/],
    [{ source: FS1, onDelete: "shred" }, /parameter "onDelete" "shred"/],
    [{ source: FS1, stripeCount: "many" }, /parameter "stripeCount" "many"/],
    [{ source: FS1, stripeSize: "100k" }, /multiple of 64 KiB/],
    [{ source: FS1, pool: "bad pool" }, /parameter "pool"/],
    [{ source: FS1, mountOptions: "exclusive" }, /"exclusive" is refused/],
    [{ source: FS1, inodeQuota: "-1" }, /parameter "inodeQuota"/],
    [{ source: FS1, directoryMode: "777x" }, /parameter "directoryMode"/],
    [
      { source: FS1, directoryMode: "17777" },
      /"directoryMode" "17777" is refused: it is above 7777/,
    ],
    [{ source: FS1, gid: "wheel" }, /parameter "gid" "wheel"/],
  ];
  for (const [parameters, pattern] of cases) {
    const error = await create(env, "pvc-bad", parameters).catch((e) => e);
    assert.ok(error instanceof CallError, JSON.stringify(parameters));
    assert.equal(error.code, Code.INVALID_ARGUMENT, error.message);
    assert.match(error.message, pattern);
  }
  const block = {
    accessType: { case: "block" as const, value: {} },
    accessMode: { mode: Mode.SINGLE_NODE_WRITER },
  };
  assert.equal(
    await statusCode(
      c.call(Controller.method.createVolume, {
        name: "pvc-b",
        volumeCapabilities: [block],
        parameters: { source: FS1 },
      }),
    ),
    Code.INVALID_ARGUMENT,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.createVolume, {
        name: "",
        volumeCapabilities: [capability()],
        parameters: { source: FS1 },
      }),
    ),
    Code.INVALID_ARGUMENT,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.createVolume, {
        name: "pvc-n",
        volumeCapabilities: [],
        parameters: { source: FS1 },
      }),
    ),
    Code.INVALID_ARGUMENT,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.createVolume, {
        name: "pvc-r",
        capacityRange: { requiredBytes: 2000n, limitBytes: 1500n },
        volumeCapabilities: [capability()],
        parameters: { source: FS1 },
      }),
    ),
    Code.OUT_OF_RANGE,
  );
  assert.equal(
    (await env.sim.calls()).filter((x) => x.cmd === "lfs").length,
    0,
    "nothing was provisioned",
  );
});

Deno.test("ValidateVolumeCapabilities() and ControllerExpandVolume() answer NOT_FOUND for unknown volumes", async () => {
  await using env = await startNodeEnv({ controller: true });
  const c = env.controller!.client;
  const { volume } = await create(env, "pvc-v", { source: FS1 });
  const ok = await c.call(Controller.method.validateVolumeCapabilities, {
    volumeId: volume!.volumeId,
    volumeCapabilities: [capability()],
  });
  assert.ok(ok.confirmed);
  const block = {
    accessType: { case: "block" as const, value: {} },
    accessMode: { mode: Mode.SINGLE_NODE_WRITER },
  };
  const no = await c.call(Controller.method.validateVolumeCapabilities, {
    volumeId: volume!.volumeId,
    volumeCapabilities: [block],
  });
  assert.equal(no.confirmed, undefined);
  assert.match(no.message, /block access/);
  assert.equal(
    await statusCode(
      c.call(Controller.method.validateVolumeCapabilities, {
        volumeId: "nope",
        volumeCapabilities: [capability()],
      }),
    ),
    Code.NOT_FOUND,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.validateVolumeCapabilities, {
        volumeId: volume!.volumeId,
        volumeCapabilities: [],
      }),
    ),
    Code.INVALID_ARGUMENT,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.controllerExpandVolume, {
        volumeId: "lustre.v1:10.0.0.1@tcp:/fs1//ghost",
        capacityRange: { requiredBytes: GiB },
      }),
    ),
    Code.NOT_FOUND,
  );
  assert.equal(
    await statusCode(
      c.call(Controller.method.controllerExpandVolume, { volumeId: volume!.volumeId }),
    ),
    Code.INVALID_ARGUMENT,
  );
});
