/**
 * An encrypted volume whose staging mount and key are gone from the node
 * while kubelet still records it staged: the next publish
 * stages it again and unlocks it with the publish request's own secrets
 * (node-publish-secret), and without them refuses by name and binds nothing.
 */
import assert from "node:assert/strict";
import { Controller, Node } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { WorkerFscrypt } from "../src/crypto/fscrypt.ts";
import { mountsBelow, stagingPath, targetPath, writeVolData } from "./support/kubelet.ts";
import { capability, type NodeEnv, startNodeEnv } from "./support/node_env.ts";

const SEC = "10.0.0.1@tcp:/sec";
const fscrypt = new WorkerFscrypt({ timeoutMs: 10_000 });

function masterKey(fill: number): string {
  return btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
}

/** NodePublishVolume as kubelet sends it, with the class's node-publish secrets. */
async function publish(
  env: NodeEnv,
  volumeId: string,
  pod: string,
  context: Record<string, string>,
  secrets: Record<string, string>,
): Promise<string> {
  const target = await targetPath(env.kubeletDir, pod, "pv");
  await env.driver.client.call(Node.method.nodePublishVolume, {
    volumeId,
    stagingTargetPath: await stagingPath(env.kubeletDir, volumeId),
    targetPath: target,
    volumeCapability: capability(),
    volumeContext: context,
    secrets,
  });
  return target;
}

Deno.test("NodePublishVolume() stages again and unlocks an encrypted volume whose staging mount and key vanished, with its own secrets only", async () => {
  await using env = await startNodeEnv({
    simState: { fileSystems: [{ name: "sec", encryptable: true, size: "64m", inodes: 4096 }] },
    controller: true,
    hostNamespace: false,
  });
  const secrets = { encryptionMasterKey: masterKey(7) };
  const { volume } = await env.controller!.client.call(Controller.method.createVolume, {
    name: "pvc-enc-repair",
    capacityRange: { requiredBytes: 1024n ** 2n },
    volumeCapabilities: [capability()],
    parameters: { source: SEC, encryption: "true", kms: "secret" },
    secrets,
  });
  const volumeId = volume!.volumeId;
  const context = volume!.volumeContext;
  const serverDir = `${env.sim.root}/srv/sec/backing store/sec/${context.subdir}`;

  const staging = await stagingPath(env.kubeletDir, volumeId);
  await env.driver.client.call(Node.method.nodeStageVolume, {
    volumeId,
    stagingTargetPath: staging,
    volumeCapability: capability(),
    volumeContext: context,
    secrets,
  });
  await writeVolData(staging, volumeId);
  const old = await publish(env, volumeId, "pod-old", context, secrets);
  await Deno.writeTextFile(`${old}/secret.txt`, "plaintext through the pod");
  await env.driver.client.call(Node.method.nodeUnpublishVolume, { volumeId, targetPath: old });

  // Unstaged while kubelet still records the volume staged (vol_data.json stays, as when kubelet
  // restarts between the unstage and its bookkeeping): the staging mount, the shared Lustre mount
  // and the key are gone from the node.
  await env.driver.client.call(Node.method.nodeUnstageVolume, {
    volumeId,
    stagingTargetPath: staging,
  });
  await Deno.stat(`${staging.slice(0, staging.lastIndexOf("/"))}/vol_data.json`);
  assert.ok(!(await env.driverMounts()).includes(staging));
  assert.equal(await fscrypt.keyStatus(serverDir, context.encryptionKeyId), "absent");

  // Without publish secrets: refused by name, nothing bound at the target or the staging path.
  const target = await targetPath(env.kubeletDir, "pod-new", "pv");
  const refused = await publish(env, volumeId, "pod-new", context, {}).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(refused instanceof CallError, `expected a failed publish, got ${refused}`);
  assert.equal(refused.code, Code.FAILED_PRECONDITION);
  assert.ok(refused.details.includes(volumeId), refused.details);
  assert.match(refused.details, /no key source/);
  for (const path of [target, staging]) {
    assert.ok(!(await env.driverMounts()).includes(path), `${path} is not mounted`);
  }
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.equal(await fscrypt.keyStatus(serverDir, context.encryptionKeyId), "absent");

  // With them: staged again, unlocked, and the new pod reads the plaintext.
  assert.equal(await publish(env, volumeId, "pod-new", context, secrets), target);
  assert.equal(await Deno.readTextFile(`${target}/secret.txt`), "plaintext through the pod");
  assert.equal(await fscrypt.keyStatus(serverDir, context.encryptionKeyId), "present");
  assert.ok((await env.driverMounts()).includes(staging));
  assert.ok(!env.driver.logs().includes(secrets.encryptionMasterKey));

  // The usual unpublish and unstage clean up, key included.
  await env.driver.client.call(Node.method.nodeUnpublishVolume, { volumeId, targetPath: target });
  await env.driver.client.call(Node.method.nodeUnstageVolume, {
    volumeId,
    stagingTargetPath: staging,
  });
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.equal(await fscrypt.keyStatus(serverDir, context.encryptionKeyId), "absent");
  await env.controller!.client.call(Controller.method.deleteVolume, { volumeId, secrets });
});
