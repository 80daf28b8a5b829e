/**
 * CreateVolume is all-or-nothing and resumable: checks before the first
 * change, a named step and a clear code when a later step fails, and the
 * next request resumes (or takes over) the half-made volume.
 */
import assert from "node:assert/strict";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { lfs, serverPath } from "./support/sim_files.ts";

const GiB = 1024n ** 3n;
const FS2 = "10.0.0.1@tcp:/fs2";

function create(env: NodeEnv, name: string, parameters: Record<string, string>, bytes = GiB) {
  return env.controller!.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: bytes },
    volumeCapabilities: [capability()],
    parameters,
  });
}

/** The error a call fails with. */
async function failure(call: Promise<unknown>): Promise<CallError> {
  const error = await call.then(() => undefined, (e) => e);
  assert.ok(error instanceof CallError, `expected a failed call, got ${error}`);
  return error;
}

async function list(path: string): Promise<string[]> {
  const names = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

async function records(env: NodeEnv, fs = "fs1"): Promise<Record<string, unknown>[]> {
  const dir = serverPath(env, fs, "/.klustre-csi/volumes");
  const out = [];
  for (const name of await list(dir)) {
    out.push(JSON.parse(await Deno.readTextFile(`${dir}/${name}`)));
  }
  return out;
}

function logsAt(env: NodeEnv, level: string): Record<string, unknown>[] {
  return env.controller!.logLines().filter((l) => String(l.level).toLowerCase() === level);
}

Deno.test("CreateVolume() refuses a missing pool before making anything, and warns when project quotas are off", async () => {
  await using env = await startNodeEnv({
    controller: true,
    simState: {
      fileSystems: [
        { name: "fs1", pools: { flash: [0, 1], ssd: [1] } },
        { name: "fs2", quotaEnabled: false },
      ],
    },
  });
  const parameters = { source: FS1, basePath: "k8s", pool: "fast" };
  const missing = await failure(create(env, "pvc-pool", parameters));
  assert.equal(missing.code, Code.INVALID_ARGUMENT, missing.message);
  assert.match(missing.message, /parameter "pool" "fast"/);
  assert.match(missing.message, /file system "fs1" \(10\.0\.0\.1@tcp:\/fs1\) has no pool "fast"/);
  assert.match(missing.message, /its pools: flash, ssd/);
  assert.deepEqual(await list(serverPath(env, "fs1")), [], "no record and no directory were made");

  const { volume } = await create(env, "pvc-pool", { ...parameters, pool: "flash", gid: "1234" });
  assert.equal(volume?.volumeId, "lustre.v1:10.0.0.1@tcp:/fs1/k8s//pvc-pool");
  const dir = serverPath(env, "fs1", "/k8s/pvc-pool");
  const stat = await Deno.stat(dir);
  assert.equal(stat.mode! & 0o7777, 0o2770, "setgid, group-shared, nothing for others");
  assert.equal(stat.gid, 1234);
  const view = await mountClient(env, "fs1");
  assert.match(await lfs(env, "getstripe", "-d", `${view}/k8s/pvc-pool`), /pool:\s+flash/);

  const unlimited = await create(env, "pvc-noquota", { source: FS2 });
  assert.ok(unlimited.volume, "a file system without project quotas still gets volumes");
  const warnings = logsAt(env, "warning").concat(logsAt(env, "warn"));
  assert.ok(
    warnings.some((l) =>
      /project quotas are not enabled on file system "fs2"/.test(String(l.warning)) &&
      l.volumeId === unlimited.volume!.volumeId
    ),
    env.controller!.logs(),
  );
  assert.ok(
    !warnings.some((l) =>
      /project quotas/.test(String(l.warning)) && /fs1/.test(String(l.volumeId))
    ),
    "no warning where quotas are on",
  );
});

Deno.test("a failed step is named with the tool's error; the same request then resumes to one directory and one record", async () => {
  await using env = await startNodeEnv({ controller: true });
  await breakSetquota(env);
  const parameters = { source: FS1, basePath: "k8s" };
  const quota = await failure(create(env, "pvc-q", parameters));
  assert.equal(quota.code, Code.FAILED_PRECONDITION, quota.message);
  assert.match(quota.message, /step "lfs setquota -p \d+ -B 1048576k -I 0" failed/);
  assert.match(quota.message, /quotactl failed: Operation not permitted/);
  assert.match(quota.message, /next CreateVolume call for it resumes/);
  assert.equal(logsAt(env, "error").length, 0, "an expected failure is not an error");
  assert.ok(
    env.controller!.logLines().some((l) =>
      /^warn/i.test(String(l.level)) && /setquota/.test(String(l.step))
    ),
    env.controller!.logs(),
  );
  assert.deepEqual((await records(env)).map((r) => r.state), ["creating"]);

  await fixSetquota(env);
  const { volume } = await create(env, "pvc-q", parameters);
  assert.equal(volume?.capacityBytes, GiB);
  assert.deepEqual(await list(serverPath(env, "fs1", "/k8s")), ["pvc-q"]);
  const [record, ...more] = await records(env);
  assert.equal(more.length, 0, "one record");
  assert.equal(record.state, "ready");

  const changed = await failure(
    create(env, "pvc-q", { ...parameters, stripeCount: "4" }, 2n * GiB),
  );
  assert.equal(changed.code, Code.ALREADY_EXISTS);
  assert.match(changed.message, /parameter "stripeCount": \(not set\) recorded, 4 requested/);
  assert.match(changed.message, /capacity 1073741824 recorded, 2147483648 requested/);

  // A file where the base directory should be: mkdir fails after the record was written.
  // Through a client mount, so that every client sees the change at once (no stale FUSE cache).
  const view = await mountClient(env, "fs1");
  await Deno.writeTextFile(`${view}/blocked`, "in the way");
  // One directory per claim name: a re-created claim maps to the same directory.
  const claim = {
    source: FS1,
    basePath: "blocked",
    subdirTemplate: "${pvc.metadata.namespace}-${pvc.metadata.name}",
    "csi.storage.k8s.io/pvc/name": "data",
    "csi.storage.k8s.io/pvc/namespace": "team",
  };
  const blocked = await failure(create(env, "pvc-old", claim));
  assert.equal(blocked.code, Code.FAILED_PRECONDITION, blocked.message);
  assert.match(blocked.message, /step "mkdir \/blocked\/team-data" failed: Not a directory/);
  await Deno.remove(`${view}/blocked`);
  // Never answered OK: the re-created claim, with a fixed class, takes the half-made volume over.
  const fixed = await create(env, "pvc-new", { ...claim, stripeCount: "2" });
  assert.equal(fixed.volume?.volumeId, "lustre.v1:10.0.0.1@tcp:/fs1/blocked//team-data");
  assert.match(await lfs(env, "getstripe", "-d", `${view}/blocked/team-data`), /stripe_count:\s+2/);
  const byName = async () =>
    Object.fromEntries((await records(env)).map((r) => [String(r.name), r.state]));
  assert.deepEqual(await byName(), { "pvc-q": "ready", "pvc-new": "ready" });

  // A failed create, then the class moved to another basePath: the empty left-over goes.
  await breakSetquota(env);
  await failure(create(env, "pvc-s", { source: FS1, basePath: "old" }));
  assert.deepEqual(await list(serverPath(env, "fs1", "/old")), ["pvc-s"]);
  await fixSetquota(env);
  await create(env, "pvc-s", { source: FS1, basePath: "new" });
  assert.deepEqual(await list(serverPath(env, "fs1", "/old")), []);
  assert.deepEqual(await list(serverPath(env, "fs1", "/new")), ["pvc-s"]);
  assert.deepEqual(await byName(), { "pvc-q": "ready", "pvc-new": "ready", "pvc-s": "ready" });
  assert.equal(logsAt(env, "error").length, 0);
});

/** Replaces the simulator's lfs with one whose setquota fails as when the servers refuse it. */
async function breakSetquota(env: NodeEnv): Promise<void> {
  const real = `${env.sim.bin}/lfs.real`;
  await Deno.rename(`${env.sim.bin}/lfs`, real);
  await Deno.writeTextFile(
    `${env.sim.bin}/lfs`,
    `#!/bin/sh
if [ "$1" = setquota ]; then
  echo "lfs setquota: quotactl failed: Operation not permitted" >&2
  echo "setquota failed: Operation not permitted" >&2
  exit 1
fi
exec '${real}' "$@"
`,
    { mode: 0o755 },
  );
}

/** Puts the simulator's own lfs back. */
async function fixSetquota(env: NodeEnv): Promise<void> {
  await Deno.rename(`${env.sim.bin}/lfs.real`, `${env.sim.bin}/lfs`);
}

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
