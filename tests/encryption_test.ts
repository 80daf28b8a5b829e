/**
 * Encrypted volumes end to end: the controller and two node plugins (two
 * mount namespaces, as two nodes) against a simulated file system backed by
 * ext4 with `-O encrypt`, so every key and policy goes through the kernel's
 * fscrypt. Keys come from a Secret's master key or a real KMIP server.
 */
import assert from "node:assert/strict";
import { Controller, Node } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { WorkerFscrypt } from "../src/crypto/fscrypt.ts";
import { KmipClient } from "../src/kms/kmip_client.ts";
import { kmipKeyName } from "../src/kms/volume_keys.ts";
import {
  DENO,
  DRIVER_PERMISSIONS,
  type DriverProcess,
  REPO,
  spawnDriver,
  waitForSocket,
} from "./support/driver.ts";
import { makeSharedKubeletDir, mountsBelow, stagingPath, targetPath } from "./support/kubelet.ts";
import { capability, type NodeEnv, startNodeEnv } from "./support/node_env.ts";
import { freePort, type KmipServer, startKmipServer } from "./support/kmip_server.ts";

const SEC = "10.0.0.1@tcp:/sec";
const SIM_STATE = {
  fileSystems: [{ name: "sec", encryptable: true, size: "64m", inodes: 4096 }],
};
const fscrypt = new WorkerFscrypt({ timeoutMs: 10_000 });

function masterKey(fill: number): string {
  return btoa(String.fromCharCode(...new Uint8Array(32).fill(fill)));
}

/** One simulated node: a node plugin in its own mount namespace with its own kubelet dir. */
class TestNode {
  constructor(readonly driver: DriverProcess, readonly kubeletDir: string) {}

  /**
   * Starts the node plugin in a mount namespace of its own that does not see the kubelet dirs
   * of the nodes in `hide` (another node's mounts are not this node's).
   */
  static async start(
    env: NodeEnv,
    name: string,
    hide: TestNode[] = [],
    extraArgs: string[] = [],
  ): Promise<TestNode> {
    const dir = `${env.dir}/${name}`;
    const kubeletDir = `${dir}/kubelet`;
    await makeSharedKubeletDir(kubeletDir);
    const socketPath = `${dir}/csi.sock`;
    const driverArgs = [
      "run",
      ...DRIVER_PERMISSIONS,
      `${REPO}/src/main.ts`,
      "node",
      "--endpoint",
      `unix://${socketPath}`,
      "--node-id",
      name,
      "--state-dir",
      `${dir}/state`,
      "--kubelet-dir",
      kubeletDir,
      "--path-env",
      env.sim.pathEnv,
      "--log-level",
      "debug",
      ...extraArgs,
    ];
    const script = [
      ...hide.map((other) => `umount -l '${other.kubeletDir}'`),
      'exec "$@"',
    ].join("\n");
    const driver = spawnDriver(
      "unshare",
      ["--mount", "--propagation", "unchanged", "sh", "-c", script, "sh", DENO, ...driverArgs],
      socketPath,
    );
    await waitForSocket(driver);
    return new TestNode(driver, kubeletDir);
  }

  async stage(volumeId: string, context: Record<string, string>, secrets: Record<string, string>) {
    const staging = await stagingPath(this.kubeletDir, volumeId);
    await this.driver.client.call(Node.method.nodeStageVolume, {
      volumeId,
      stagingTargetPath: staging,
      volumeCapability: capability(),
      volumeContext: context,
      secrets,
    });
    return staging;
  }

  async publish(volumeId: string, pod: string, context: Record<string, string>) {
    const staging = await stagingPath(this.kubeletDir, volumeId);
    const target = await targetPath(this.kubeletDir, pod, "pv");
    await this.driver.client.call(Node.method.nodePublishVolume, {
      volumeId,
      stagingTargetPath: staging,
      targetPath: target,
      volumeCapability: capability(),
      volumeContext: context,
    });
    return target;
  }

  async unpublish(volumeId: string, pod: string) {
    const target = await targetPath(this.kubeletDir, pod, "pv");
    await this.driver.client.call(Node.method.nodeUnpublishVolume, {
      volumeId,
      targetPath: target,
    });
  }

  async unstage(volumeId: string) {
    const staging = await stagingPath(this.kubeletDir, volumeId);
    await this.driver.client.call(Node.method.nodeUnstageVolume, {
      volumeId,
      stagingTargetPath: staging,
    });
  }

  /** Mounts below the kubelet dir, apart from its own shared bind. */
  async volumeMounts(): Promise<string[]> {
    return (await mountsBelow(this.kubeletDir)).filter((p) => p !== this.kubeletDir);
  }

  async [Symbol.asyncDispose]() {
    await this.driver.stop("SIGKILL").catch(() => undefined);
  }
}

async function createVolume(
  env: NodeEnv,
  name: string,
  kms: string,
  secrets: Record<string, string>,
) {
  const { volume } = await env.controller!.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: 1024n ** 2n },
    volumeCapabilities: [capability()],
    parameters: { source: SEC, encryption: "true", kms },
    secrets,
  });
  return { volumeId: volume!.volumeId, context: volume!.volumeContext };
}

async function failure(call: Promise<unknown>): Promise<CallError> {
  const error = await call.then(() => undefined, (e) => e);
  assert.ok(error instanceof CallError, `expected a failed call, got ${error}`);
  return error;
}

/** The volume's directory as the simulated server holds it. */
function serverDir(env: NodeEnv, context: Record<string, string>): string {
  return `${env.sim.root}/srv/sec/backing store/sec/${context.subdir}`;
}

Deno.test("an encrypted volume (kms: secret) is read on a second node and refused without its key", async () => {
  await using env = await startNodeEnv({
    simState: SIM_STATE,
    controller: true,
    hostNamespace: false,
  });
  await using node1 = await TestNode.start(env, "node1");
  await using node2 = await TestNode.start(env, "node2", [node1]);
  const secrets = { encryptionMasterKey: masterKey(7) };

  const missing = await failure(createVolume(env, "pvc-nosecret", "secret", {}));
  assert.equal(missing.code, Code.INVALID_ARGUMENT);
  assert.match(missing.details, /lack "encryptionMasterKey"/);

  const { volumeId, context } = await createVolume(env, "pvc-enc", "secret", secrets);
  assert.equal(context.encryption, "secret");
  assert.match(context.encryptionKeyId, /^[0-9a-f]{32}$/);
  // A retried CreateVolume answers the same volume.
  assert.deepEqual((await createVolume(env, "pvc-enc", "secret", secrets)).context, context);
  const policy = await fscrypt.policy(serverDir(env, context));
  assert.equal(policy?.identifier, context.encryptionKeyId);
  assert.equal(await fscrypt.keyStatus(serverDir(env, context), policy!.identifier), "absent");

  // A wrong master key on node 2: refused, nothing mounted.
  const wrong = await failure(
    node2.stage(volumeId, context, { encryptionMasterKey: masterKey(8) }),
  );
  assert.equal(wrong.code, Code.FAILED_PRECONDITION);
  assert.match(wrong.details, /pvc-enc|sec/);
  assert.match(wrong.details, /wrong key/);
  assert.match(wrong.details, /kms: secret/);
  assert.deepEqual(await node2.volumeMounts(), []);
  const noSecret = await failure(node2.stage(volumeId, context, {}));
  assert.equal(noSecret.code, Code.FAILED_PRECONDITION);
  assert.match(noSecret.details, /node-stage-secret-name/);

  // Node 1 writes through a pod, node 2 reads through another.
  await node1.stage(volumeId, context, secrets);
  const target1 = await node1.publish(volumeId, "pod-1", context);
  await Deno.writeTextFile(`${target1}/secret.txt`, "encrypted file");
  await node2.stage(volumeId, context, secrets);
  const target2 = await node2.publish(volumeId, "pod-2", context);
  assert.equal(await Deno.readTextFile(`${target2}/secret.txt`), "encrypted file");

  await node2.unpublish(volumeId, "pod-2");
  await node2.unstage(volumeId);
  await node1.unpublish(volumeId, "pod-1");
  await node1.unstage(volumeId);
  assert.equal(await fscrypt.keyStatus(serverDir(env, context), policy!.identifier), "absent");
  assert.match(node1.driver.logs(), /Removed the key of volume/);

  // A mount without the key: encrypted names, and reading fails with ENOKEY.
  const names = [...Deno.readDirSync(serverDir(env, context))].map((e) => e.name);
  assert.equal(names.length, 1);
  assert.notEqual(names[0], "secret.txt");
  await assert.rejects(
    Deno.readTextFile(`${serverDir(env, context)}/${names[0]}`),
    /Required key not available/,
  );
  // Nothing of the key reached a log.
  for (const log of [env.controller!.logs(), node1.driver.logs(), node2.driver.logs()]) {
    assert.ok(!log.includes(secrets.encryptionMasterKey));
  }

  await env.controller!.client.call(Controller.method.deleteVolume, { volumeId, secrets });
  await assert.rejects(Deno.stat(serverDir(env, context)), Deno.errors.NotFound);
});

Deno.test("an encrypted volume (kms: kmip) takes its key from a KMIP server, bounded when it is down", async () => {
  await using kmip = await startKmipServer();
  await using env = await startNodeEnv({
    simState: SIM_STATE,
    controller: true,
    hostNamespace: false,
  });
  // A short command timeout: it bounds each KMIP request of a stage.
  await using node1 = await TestNode.start(env, "node1", [], ["--command-timeout-ms", "2000"]);
  const secrets = kmipSecrets(kmip, `${kmip.host}:${kmip.port}`);
  // KMS down at CreateVolume: UNAVAILABLE, and the next call finishes the same volume.
  const unreachable = kmipSecrets(kmip, `127.0.0.1:${freePort()}`);
  const notYet = await failure(createVolume(env, "pvc-kmip", "kmip", unreachable));
  assert.equal(notYet.code, Code.UNAVAILABLE);
  assert.match(notYet.details, /pvc-kmip.*KMIP server 127\.0\.0\.1.*resumes there/);
  const { volumeId, context } = await createVolume(env, "pvc-kmip", "kmip", secrets);
  assert.equal(context.encryption, "kmip");
  const client = new KmipClient(kmip, { timeoutMs: 20_000 });
  assert.equal(
    (await client.locate(kmipKeyName(volumeId))).length,
    1,
    "one key, named after the volume",
  );

  // KMS down: an answer within the timeout, nothing mounted.
  const down = await failure(
    node1.stage(volumeId, context, kmipSecrets(kmip, `127.0.0.1:${freePort()}`)),
  );
  assert.equal(down.code, Code.UNAVAILABLE);
  assert.match(down.details, /pvc-kmip|KMIP server 127\.0\.0\.1/);
  assert.deepEqual(await node1.volumeMounts(), []);
  // A KMS that accepts the connection and never answers: bounded by the command timeout.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  try {
    const port = (silent.addr as Deno.NetAddr).port;
    const hung = await failure(
      node1.stage(volumeId, context, kmipSecrets(kmip, `127.0.0.1:${port}`)),
    );
    assert.equal(hung.code, Code.UNAVAILABLE);
    assert.match(hung.details, /did not answer Locate within 2000 ms/);
    assert.deepEqual(await node1.volumeMounts(), []);
  } finally {
    silent.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => undefined);
  }

  await node1.stage(volumeId, context, secrets);
  const target = await node1.publish(volumeId, "pod-1", context);
  await Deno.writeTextFile(`${target}/f`, "kmip");
  assert.equal(await Deno.readTextFile(`${target}/f`), "kmip");
  await node1.unpublish(volumeId, "pod-1");
  await node1.unstage(volumeId);

  // Delete: the directory first, then the key.
  await env.controller!.client.call(Controller.method.deleteVolume, { volumeId, secrets });
  await assert.rejects(Deno.stat(serverDir(env, context)), Deno.errors.NotFound);
  assert.deepEqual(await client.locate(kmipKeyName(volumeId)), []);
  // A key that is gone: the stage of a (recreated) directory is refused by name.
  const { volumeId: second, context: secondContext } = await createVolume(
    env,
    "pvc-kmip2",
    "kmip",
    secrets,
  );
  // An admin destroys it on the KMS: the key is Active, so it is revoked first.
  for (const id of await client.locate(kmipKeyName(second))) {
    await client.revoke(id);
    await client.destroy(id);
  }
  const gone = await failure(node1.stage(second, secondContext, secrets));
  assert.equal(gone.code, Code.FAILED_PRECONDITION);
  assert.match(gone.details, /has no key named/);
});

function kmipSecrets(kmip: KmipServer, endpoint: string): Record<string, string> {
  return {
    kmipEndpoint: endpoint,
    kmipCaCert: kmip.ca,
    kmipClientCert: kmip.cert,
    kmipClientKey: kmip.key,
  };
}
