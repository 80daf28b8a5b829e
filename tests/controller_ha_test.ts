/**
 * Two controller processes on one simulated file system, as with
 * `replicas: 2` and a leader change: concurrent creates, expands and deletes
 * of the same and different names leave no record resurrected, no project ID
 * shared or leaked, and every deleted tree purged from the trash.
 */
import assert from "node:assert/strict";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { type DriverProcess, startDriver } from "./support/driver.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { statusCode } from "./support/calls.ts";
import { dirNames, serverPath } from "./support/sim_files.ts";

const GiB = 1024n ** 3n;
const PARAMS = { source: FS1, basePath: "k8s", projectIdRange: "7000-7999" };

function create(controller: DriverProcess, name: string) {
  return controller.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: GiB },
    volumeCapabilities: [capability()],
    parameters: PARAMS,
  });
}

async function records(
  env: NodeEnv,
): Promise<{ name: string; projectId: number; state: string }[]> {
  const dir = serverPath(env, "fs1", "/.klustre-csi/volumes");
  const out = [];
  for (const name of await dirNames(dir)) {
    if (name.endsWith(".json")) out.push(JSON.parse(await Deno.readTextFile(`${dir}/${name}`)));
  }
  return out;
}

/** The project IDs the allocator holds as used. */
async function allocated(env: NodeEnv): Promise<number[]> {
  const text = await Deno.readTextFile(serverPath(env, "fs1", "/.klustre-csi/allocator.json"));
  const ids = [];
  for (const [first, last] of JSON.parse(text).used as [number, number][]) {
    for (let id = first; id <= last; id++) ids.push(id);
  }
  return ids;
}

Deno.test("two controllers on one file system: concurrent create, expand and delete stay consistent", async () => {
  await using env = await startNodeEnv({ controller: true, hostNamespace: false });
  const a = env.controller!;
  const b = await startDriver({
    dir: `${env.dir}/controller-b`,
    mode: "controller",
    ownNamespace: true,
    args: ["--path-env", env.sim.pathEnv, "--log-level", "debug"],
  });
  try {
    // The same names on both controllers at once, and different names on each.
    const names = Array.from({ length: 12 }, (_, i) => `pvc-ha${i}`);
    const made = await Promise.all(names.flatMap((name) => [create(a, name), create(b, name)]));
    for (let i = 0; i < names.length; i++) {
      assert.equal(made[2 * i].volume?.volumeId, made[2 * i + 1].volume?.volumeId);
    }
    const first = await records(env);
    assert.equal(first.length, 12);
    assert.equal(new Set(first.map((r) => r.projectId)).size, 12, "no project ID shared");
    assert.ok(first.every((r) => r.state === "ready"));

    // Delete half on A while B expands them and both create more.
    const doomed = names.slice(0, 6).map((_, i) => made[2 * i].volume!.volumeId);
    await Deno.writeTextFile(serverPath(env, "fs1", "/k8s/pvc-ha0/data"), "to be purged");
    const outcomes = await Promise.all([
      ...doomed.map((volumeId) =>
        statusCode(a.client.call(Controller.method.deleteVolume, { volumeId }))
      ),
      ...doomed.map((volumeId) =>
        statusCode(
          b.client.call(Controller.method.controllerExpandVolume, {
            volumeId,
            capacityRange: { requiredBytes: 2n * GiB },
          }),
        )
      ),
      ...doomed.map((volumeId) =>
        statusCode(b.client.call(Controller.method.deleteVolume, { volumeId }))
      ),
      ...["pvc-hb0", "pvc-hb1", "pvc-hb2"].map((name) => statusCode(create(a, name))),
      ...["pvc-hb3", "pvc-hb4", "pvc-hb5"].map((name) => statusCode(create(b, name))),
    ]);
    assert.ok(outcomes.slice(0, 6).every((code) => code === Code.OK), `deletes: ${outcomes}`);
    // B's own expand of a volume makes B's delete of it wait its turn (ABORTED, retried).
    const retried = outcomes.slice(12, 18);
    assert.ok(retried.every((c) => c === Code.OK || c === Code.ABORTED), `deletes: ${retried}`);
    for (const volumeId of doomed) {
      assert.equal(
        await statusCode(b.client.call(Controller.method.deleteVolume, { volumeId })),
        Code.OK,
      );
    }
    const expands = outcomes.slice(6, 12);
    assert.ok(
      expands.every((code) => code === Code.OK || code === Code.NOT_FOUND),
      `expands: ${expands}`,
    );
    assert.ok(outcomes.slice(18).every((code) => code === Code.OK), `creates: ${outcomes}`);

    const left = await records(env);
    const deletedNames = names.slice(0, 6);
    assert.deepEqual(
      left.filter((r) => deletedNames.includes(r.name)),
      [],
      "no deleted volume's record came back",
    );
    assert.equal(left.length, 12);
    assert.equal(new Set(left.map((r) => r.projectId)).size, 12, "no project ID shared");
    for (const name of deletedNames) {
      await assert.rejects(
        Deno.lstat(serverPath(env, "fs1", `/k8s/${name}`)),
        Deno.errors.NotFound,
      );
    }

    // The purgers empty the trash; then exactly the live volumes hold IDs.
    const deadline = Date.now() + 60_000;
    while ((await dirNames(serverPath(env, "fs1", "/.klustre-csi/trash"))).length > 0) {
      assert.ok(Date.now() < deadline, "the trash was not purged within 60 s");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.deepEqual(
      await allocated(env),
      left.map((r) => r.projectId).sort((x, y) => x - y),
      "no project ID leaked",
    );
    // A retried delete after the purge does nothing and answers OK.
    assert.equal(
      await statusCode(a.client.call(Controller.method.deleteVolume, { volumeId: doomed[0] })),
      Code.OK,
    );
    assert.deepEqual(
      await dirNames(serverPath(env, "fs1", "/.klustre-csi/locks")),
      [],
      "no lock left",
    );
  } finally {
    await b.stop("SIGKILL").catch(() => undefined);
  }
});
