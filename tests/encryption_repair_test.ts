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
import { capability, type NodeEnv, pvName, startNodeEnv } from "./support/node_env.ts";
import { parseMountInfo } from "../src/mount/mountinfo.ts";

const SEC = "10.0.0.1@tcp:/sec";
const fscrypt = new WorkerFscrypt({ timeoutMs: 10_000 });

function masterKey(fill: number): string {
  return btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
}

/** An encrypted volume (kms: secret), staged with its secrets and written through a pod. */
async function stagedEncryptedVolume(env: NodeEnv, name: string) {
  const secrets = { encryptionMasterKey: masterKey(7) };
  const { volume } = await env.controller!.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: 1024n ** 2n },
    volumeCapabilities: [capability()],
    parameters: { source: SEC, encryption: "true", kms: "secret" },
    secrets,
  });
  const volumeId = volume!.volumeId;
  const context = volume!.volumeContext;
  const serverDir = `${env.sim.root}/srv/sec/backing store/sec/${context.subdir}`;
  const staging = await stagingPath(env.kubeletDir, volumeId);
  await env.stage(volumeId, context, { secrets });
  await writeVolData(staging, volumeId);
  const old = await env.publish(volumeId, "pod-old", context, { secrets });
  await Deno.writeTextFile(`${old}/secret.txt`, "plaintext through the pod");
  await env.driver.client.call(Node.method.nodeUnpublishVolume, { volumeId, targetPath: old });
  return { secrets, volumeId, context, serverDir, staging };
}

/** Runs a command with a timeout and asserts it succeeds. */
async function run(command: string, ...args: string[]) {
  const out = await new Deno.Command(command, { args, signal: AbortSignal.timeout(10_000) })
    .output();
  assert.equal(
    out.code,
    0,
    `${command} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
  );
}

/** A node plugin and a controller on a simulated encryptable file system "sec". */
function startEncryptedEnv(): Promise<NodeEnv> {
  return startNodeEnv({
    simState: { fileSystems: [{ name: "sec", encryptable: true, size: "64m", inodes: 4096 }] },
    controller: true,
    hostNamespace: false,
  });
}

Deno.test("NodePublishVolume() stages again and unlocks with its own secrets an encrypted volume unstaged while kubelet records it staged", async () => {
  await using env = await startEncryptedEnv();
  const { secrets, volumeId, context, serverDir, staging } = await stagedEncryptedVolume(
    env,
    "pvc-enc-repair",
  );

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

  await refusedThenStagedByPublish(env, { volumeId, context, secrets, serverDir, staging });
});

/**
 * Unmounts the staging bind (and with `shared` the shared Lustre mount too) in the driver's
 * namespace and removes the key, all behind the driver's back; then publishes without and with
 * secrets.
 */
async function publishAfterMountsAndKeyVanished(options: { shared: boolean }) {
  await using env = await startEncryptedEnv();
  const { secrets, volumeId, context, serverDir, staging } = await stagedEncryptedVolume(
    env,
    "pvc-enc-gone",
  );
  const driverNs = `/proc/${env.driver.pid}/ns/mnt`;
  const shared = parseMountInfo(await Deno.readTextFile(`/proc/${env.driver.pid}/mountinfo`))
    .filter((m) => m.mountPoint.startsWith(`${env.stateDir}/mounts/`))
    .map((m) => m.mountPoint);
  assert.equal(shared.length, 1);
  await run("nsenter", `--mount=${driverNs}`, "umount", staging);
  if (options.shared) await run("nsenter", `--mount=${driverNs}`, "umount", shared[0]);
  assert.ok(!(await env.driverMounts()).includes(staging));
  assert.equal((await env.driverMounts()).includes(shared[0]), !options.shared);
  // On the file system's root: a descriptor of the encrypted directory itself would keep it busy.
  const removal = await fscrypt.removeKey(
    `${env.sim.root}/srv/sec/backing store`,
    context.encryptionKeyId,
  );
  assert.deepEqual(removal, { removed: true, filesBusy: false, otherUsers: false });
  assert.equal(await fscrypt.keyStatus(serverDir, context.encryptionKeyId), "absent");

  await refusedThenStagedByPublish(env, { volumeId, context, secrets, serverDir, staging });
}

Deno.test("NodePublishVolume() stages again and unlocks an encrypted volume whose staging mount and key were removed behind the driver's back", async () => {
  await publishAfterMountsAndKeyVanished({ shared: false });
});

Deno.test("NodePublishVolume() stages again and unlocks an encrypted volume whose staging and shared mounts and key were removed behind the driver's back", async () => {
  await publishAfterMountsAndKeyVanished({ shared: true });
});

/**
 * A publish of the volume (kubelet believes it staged) without secrets is refused by name with
 * nothing bound and no key added; with the Secret it stages again, unlocks, and the new pod reads
 * the plaintext; then unpublish, unstage and delete clean up, key included.
 */
async function refusedThenStagedByPublish(
  env: NodeEnv,
  volume: {
    volumeId: string;
    context: Record<string, string>;
    secrets: Record<string, string>;
    serverDir: string;
    staging: string;
  },
) {
  const { volumeId, context, secrets, serverDir, staging } = volume;
  const target = await targetPath(env.kubeletDir, "pod-new", pvName(volumeId));
  const refused = await env.publish(volumeId, "pod-new", context, { secrets: {} }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(refused instanceof CallError, `expected a failed publish, got ${refused}`);
  assert.equal(refused.code, Code.FAILED_PRECONDITION);
  assert.ok(refused.details.includes(volumeId), refused.details);
  assert.match(refused.details, /no key source/);
  assert.match(refused.details, /node-publish-secret-name/, "names the parameter a publish reads");
  for (const path of [target, staging]) {
    assert.ok(!(await env.driverMounts()).includes(path), `${path} is not mounted`);
  }
  assert.deepEqual(await mountsBelow(env.kubeletDir), [env.kubeletDir]);
  assert.equal(await fscrypt.keyStatus(serverDir, context.encryptionKeyId), "absent");

  // With them: staged again, unlocked, and the new pod reads the plaintext.
  assert.equal(await env.publish(volumeId, "pod-new", context, { secrets }), target);
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
}
