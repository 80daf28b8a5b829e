/**
 * The encryption demo (`./scripts/demo-encryption`): the simulator with an
 * encryptable file system (ext4 `-O encrypt` on a loop device, so the
 * kernel's real fscrypt does the work), the controller and two node plugins
 * in mount namespaces of their own (two nodes). A PVC of an encrypted class
 * (kms: secret) is written on node 1 and read on node 2; after the last
 * unstage the key is gone, and a plain client mount sees encrypted names and
 * "Required key not available". Exits 1 when a step fails.
 */
import { createHash } from "node:crypto";
import { CallError } from "../src/grpc/client.ts";
import { codeName } from "../src/csi/csi_error.ts";
import {
  Controller,
  Node,
  VolumeCapability_AccessMode_Mode as Mode,
} from "../src/csi/gen/csi_pb.ts";
import { DRIVER_NAME } from "../src/version.ts";
import { WorkerFscrypt } from "../src/crypto/fscrypt.ts";
import { DemoDriver, REPO, sh } from "./demo_driver.ts";

const SOURCE = "10.0.0.1@tcp:/secure";
const CAPABILITY = {
  accessType: { case: "mount" as const, value: { fsType: "", mountFlags: [] } },
  accessMode: { mode: Mode.MULTI_NODE_MULTI_WRITER },
};
const PARAMETERS = { source: SOURCE, basePath: "/k8s", encryption: "true", kms: "secret" };

let step = 0;

/** Runs one step and prints what happened. */
async function run(title: string, work: () => Promise<string | string[]>): Promise<void> {
  const n = `${++step}.`.padStart(3);
  try {
    const lines = await work();
    const list = typeof lines === "string" ? [lines] : lines;
    console.log(`${n} ${title} -> OK`);
    for (const line of list) console.log(`      ${line}`);
  } catch (error) {
    const why = error instanceof CallError
      ? `${codeName(error.code)}: ${error.details}`
      : (error as Error).message;
    console.log(`${n} ${title} -> FAILED: ${why}`);
    throw error;
  }
}

function stagingPath(kubelet: string, volumeId: string): string {
  const sha = createHash("sha256").update(volumeId).digest("hex");
  return `${kubelet}/plugins/kubernetes.io/csi/${DRIVER_NAME}/${sha}/globalmount`;
}

async function main(): Promise<number> {
  const work = await Deno.makeTempDir({ prefix: "klustre-demo-encryption-" });
  const sim = `${work}/sim`;
  const pathEnv = `${sim}/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  const drivers: DemoDriver[] = [];
  const master = crypto.getRandomValues(new Uint8Array(32));
  const secrets = { encryptionMasterKey: btoa(String.fromCharCode(...master)) };
  master.fill(0);
  let failed = false;
  try {
    const state = `${work}/sim.json`;
    await Deno.writeTextFile(
      state,
      JSON.stringify({
        fileSystems: [{ name: "secure", encryptable: true, size: "64m", inodes: 4096 }],
      }),
    );
    await run(
      'lustre-sim up (file system "secure": ext4 -O encrypt on a loop device)',
      async () => {
        await sh(`${REPO}/scripts/lustre-sim`, ["up", "--root", sim, "--state", state]);
        const loop = (await sh("losetup", ["-j", `${sim}/srv/secure/image.ext4`])).stdout.trim();
        return loop.split(":")[0] || "(loop device)";
      },
    );
    const nodes: { name: string; kubelet: string; driver: DemoDriver }[] = [];
    await run("start the controller and two node plugins (two mount namespaces)", async () => {
      const log = (name: string) => Deno.open(`${work}/${name}.log`, { write: true, create: true });
      const driverIn = async (dir: string, args: string[], hide: string[] = []) =>
        new DemoDriver({
          args: [...args, "--state-dir", `${dir}/state`],
          socket: `${dir}/csi.sock`,
          log: await log(dir.slice(work.length + 1)),
          hide,
        });
      const controller = await driverIn(`${work}/controller`, [
        ...["controller", "--path-env", pathEnv, "--log-level", "debug"],
      ]);
      drivers.push(controller);
      for (const name of ["node-1", "node-2"]) {
        const kubelet = `${work}/${name}/kubelet`;
        await Deno.mkdir(kubelet, { recursive: true });
        await sh("mount", ["--bind", kubelet, kubelet]);
        await sh("mount", ["--make-shared", kubelet]);
        const driver = await driverIn(
          `${work}/${name}`,
          [
            ...["node", "--node-id", name, "--kubelet-dir", kubelet, "--path-env", pathEnv],
            ...["--log-level", "debug"],
          ],
          nodes.map((n) => n.kubelet),
        );
        drivers.push(driver);
        nodes.push({ name, kubelet, driver });
      }
      await Promise.all(drivers.map((d) => d.waitReady(60_000)));
      return `logs in ${work}/*.log`;
    });
    const [controller] = drivers;
    const [node1, node2] = nodes;
    let volumeId = "";
    let context: Record<string, string> = {};
    await run('CreateVolume pvc-secret (encryption: "true", kms: secret)', async () => {
      const { volume } = await controller.client.call(Controller.method.createVolume, {
        name: "pvc-secret",
        capacityRange: { requiredBytes: 1024n ** 2n },
        volumeCapabilities: [CAPABILITY],
        parameters: PARAMETERS,
        secrets,
      });
      volumeId = volume!.volumeId;
      context = volume!.volumeContext;
      return [`volume ${volumeId}`, `context ${JSON.stringify(context)}`];
    });
    const target = (kubelet: string, pod: string) =>
      `${kubelet}/pods/${pod}/volumes/kubernetes.io~csi/pvc-secret/mount`;
    const stageAndPublish = async (node: typeof node1, pod: string, keys = secrets) => {
      const staging = stagingPath(node.kubelet, volumeId);
      await Deno.mkdir(staging, { recursive: true });
      await node.driver.client.call(Node.method.nodeStageVolume, {
        volumeId,
        stagingTargetPath: staging,
        volumeCapability: CAPABILITY,
        volumeContext: context,
        secrets: keys,
      });
      const path = target(node.kubelet, pod);
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await node.driver.client.call(Node.method.nodePublishVolume, {
        volumeId,
        stagingTargetPath: staging,
        targetPath: path,
        volumeCapability: CAPABILITY,
        volumeContext: context,
      });
      return path;
    };
    const unpublishAndUnstage = async (node: typeof node1, pod: string) => {
      await node.driver.client.call(Node.method.nodeUnpublishVolume, {
        volumeId,
        targetPath: target(node.kubelet, pod),
      });
      await node.driver.client.call(Node.method.nodeUnstageVolume, {
        volumeId,
        stagingTargetPath: stagingPath(node.kubelet, volumeId),
      });
    };
    await run("node-1: stage with another master key (a wrong key)", async () => {
      const wrong = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
      try {
        await stageAndPublish(node1, "pod-a", { encryptionMasterKey: wrong });
      } catch (error) {
        if (error instanceof CallError) {
          return `refused as it should be: ${codeName(error.code)}: ${error.details}`;
        }
        throw error;
      }
      throw new Error("the wrong key was accepted");
    });
    await run("node-1: stage + publish to pod-a, write secret.txt", async () => {
      const path = await stageAndPublish(node1, "pod-a");
      await Deno.writeTextFile(`${path}/secret.txt`, "encrypted file\n");
      return `pod-a$ echo "encrypted file" > /data/secret.txt`;
    });
    await run("node-2: stage + publish to pod-b, read secret.txt", async () => {
      const path = await stageAndPublish(node2, "pod-b");
      const text = await Deno.readTextFile(`${path}/secret.txt`);
      if (text !== "encrypted file\n") throw new Error(`read ${JSON.stringify(text)}`);
      return `pod-b$ cat /data/secret.txt  ->  ${text.trim()}`;
    });
    await run("unpublish + unstage on both nodes (the last unstage removes the key)", async () => {
      await unpublishAndUnstage(node2, "pod-b");
      await unpublishAndUnstage(node1, "pod-a");
      const fscrypt = new WorkerFscrypt({ timeoutMs: 10_000 });
      const status = await fscrypt.keyStatus(`${sim}/srv/secure/export`, context.encryptionKeyId);
      if (status !== "absent") throw new Error(`the key is still ${status}`);
      return `key ${context.encryptionKeyId}: ${status} on the file system`;
    });
    await run("a client mount without the key (an admin's shell on another node)", async () => {
      const mnt = `${work}/admin`;
      await Deno.mkdir(mnt);
      await sh(`${sim}/bin/mount.lustre`, [SOURCE, mnt]);
      try {
        const dir = `${mnt}/${context.subdir}`;
        const names = [...Deno.readDirSync(dir)].map((e) => e.name);
        const read = await sh("cat", [`${dir}/${names[0]}`], false);
        const plain = await sh("cat", [`${dir}/secret.txt`], false);
        if (!/Required key not available/.test(read.stderr)) {
          throw new Error(`reading without the key did not fail with ENOKEY: ${read.stderr}`);
        }
        return [
          `$ ls ${context.subdir}  ->  ${names.join(" ")}`,
          `$ cat ${context.subdir}/${names[0]}  ->  ${read.stderr.trim().replace(/^.*: /, "")}`,
          `$ cat ${context.subdir}/secret.txt  ->  ${plain.stderr.trim().replace(/^.*: /, "")}`,
        ];
      } finally {
        await sh("umount", [mnt], false);
      }
    });
    await run("DeleteVolume pvc-secret", async () => {
      await controller.client.call(Controller.method.deleteVolume, { volumeId, secrets });
      return "directory moved to the trash for the purger (a kms: kmip volume's key is destroyed " +
        "with the move)";
    });
  } catch {
    failed = true;
  } finally {
    for (const driver of drivers) await driver.stop();
    await sh(`${REPO}/scripts/lustre-sim`, ["down", "--root", sim], false);
    for (const name of ["node-1", "node-2"]) {
      await sh("umount", ["-l", `${work}/${name}/kubelet`], false);
    }
    if (!failed) await Deno.remove(work, { recursive: true }).catch(() => undefined);
  }
  console.log(failed ? `demo-encryption: FAILED (logs in ${work})` : "demo-encryption: OK");
  return failed ? 1 : 0;
}

if (
  !Deno.env.get("KLUSTRE_DEMO_PARENT_NS") ||
  Deno.env.get("KLUSTRE_DEMO_PARENT_NS") === await Deno.readLink("/proc/self/ns/mnt")
) {
  console.error(
    "demo_encryption.ts: run it through ./scripts/demo-encryption (a private mount namespace)",
  );
  Deno.exit(2);
}
Deno.exit(await main());
