/**
 * DeleteVolume moves the tree into the trash and answers; the purger
 * deletes it in the background, resumes after a restart, and frees the
 * project ID only once the tree is gone.
 */
import assert from "node:assert/strict";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { type DriverProcess, startDriver } from "./support/driver.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { statusCode } from "./support/calls.ts";
import { dirNames, serverPath } from "./support/sim_files.ts";
import { freePort } from "./support/free_port.ts";

function startController(env: NodeEnv, port: number): Promise<DriverProcess> {
  return startDriver({
    dir: `${env.dir}/controller`,
    mode: "controller",
    ownNamespace: true,
    args: [
      "--path-env",
      env.sim.pathEnv,
      "--log-level",
      "debug",
      "--metrics-address",
      `127.0.0.1:${port}`,
    ],
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function trashEntries(port: number): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return /^klustre_csi_trash_entries\{fs="fs1"\} (\d+)$/m.exec(text)?.[1];
}

Deno.test("DeleteVolume() moves the tree to the trash; the purge resumes after a restart and frees the ID", async () => {
  await using env = await startNodeEnv({ hostNamespace: false });
  const port = freePort();
  let controller = await startController(env, port);
  try {
    const { volume } = await controller.client.call(Controller.method.createVolume, {
      name: "pvc-big",
      capacityRange: { requiredBytes: 1n << 30n },
      volumeCapabilities: [capability()],
      parameters: { source: FS1, basePath: "k8s", projectIdRange: "4000-4000" },
    });
    const volumeId = volume!.volumeId;
    const dir = serverPath(env, "fs1", "/k8s/pvc-big");
    for (let d = 0; d < 5; d++) {
      await Deno.mkdir(`${dir}/d${d}/sub`, { recursive: true });
      for (let f = 0; f < 20; f++) await Deno.writeTextFile(`${dir}/d${d}/sub/f${f}`, "data");
    }
    // The purge's `lfs setquota` waits: the kill lands after the tree is gone, before the ID is freed.
    await env.sim.fault("slow", "--delay-ms", "60000", "--cmd", "lfs");
    await controller.client.call(Controller.method.deleteVolume, { volumeId });
    await assert.rejects(Deno.lstat(dir), Deno.errors.NotFound, "gone from its place at once");
    const trash = serverPath(env, "fs1", "/.klustre-csi/trash");
    const [token] = await dirNames(trash);
    assert.ok(token, "one trash entry");
    await until(
      "the tree is purged",
      async () => (await dirNames(`${trash}/${token}`)).length === 1,
    );
    assert.deepEqual(await dirNames(`${trash}/${token}`), ["entry.json"]);
    assert.equal(await trashEntries(port), "1");
    // A retry while the purge runs changes nothing.
    assert.equal(
      await statusCode(controller.client.call(Controller.method.deleteVolume, { volumeId })),
      Code.OK,
    );
    assert.deepEqual(await dirNames(trash), [token]);
    const allocator = () =>
      Deno.readTextFile(serverPath(env, "fs1", "/.klustre-csi/allocator.json")).then(JSON.parse);
    assert.deepEqual(
      (await allocator()).used,
      [[4000, 4000]],
      "the ID is held until the purge ends",
    );

    await controller.stop("SIGKILL");
    await env.sim.fault("slow", "off");
    controller = await startController(env, port);
    await until("the purge resumed and finished", async () => (await dirNames(trash)).length === 0);
    await until("the metric shows an empty trash", async () => (await trashEntries(port)) === "0");
    assert.deepEqual((await allocator()).used, [], "the ID is free");
    const { volume: again } = await controller.client.call(Controller.method.createVolume, {
      name: "pvc-reuse",
      capacityRange: { requiredBytes: 1n << 30n },
      volumeCapabilities: [capability()],
      parameters: { source: FS1, basePath: "k8s", projectIdRange: "4000-4000" },
    });
    assert.ok(again);
    assert.deepEqual((await allocator()).used, [[4000, 4000]], "the freed ID is handed out again");
  } finally {
    await controller.stop("SIGKILL").catch(() => undefined);
  }
});
