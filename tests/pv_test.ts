/**
 * `klustre-csi pv`: the generated manifests validate as Kubernetes objects
 * (kubernetes-models schemas, unknown fields refused), the driver stages
 * what they describe, and bad inventories are refused with the entry named.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { runCli, tempDir } from "./support/driver.ts";
import { startNodeEnv } from "./support/node_env.ts";
import { schemaProblems } from "./support/k8s_schema.ts";

// deno-lint-ignore no-explicit-any -- generated objects are read field by field
type Obj = Record<string, any>;

/** Runs `klustre-csi pv` on an inventory text. */
async function pv(inventory: string, extra: string[] = []) {
  await using dir = await tempDir("klustre-pv-");
  const file = `${dir.path}/inventory.yaml`;
  await Deno.writeTextFile(file, inventory);
  return await runCli(["pv", "--inventory", file, ...extra]);
}

const INVENTORY = `
fileSystems:
  - name: fs1
    source: 10.0.0.1@tcp0:10.0.0.2@tcp0:/fs1
    mountOptions: [flock, user_xattr]
  - name: fs2
    source: 10.0.0.1@tcp:/fs2
volumes:
  - name: fs1-alpha
    fs: fs1
    subdir: projects/alpha
    capacity: 10Ti
    namespace: team-alpha
    claimName: alpha
  - name: fs2-readonly
    fs: fs2
    capacity: 1.5T
    accessModes: [ReadOnlyMany]
    mountOptions: noatime
    namespace: default
`;

Deno.test("pv writes PVs and PVCs that validate as Kubernetes objects", async () => {
  const result = await pv(INVENTORY);
  assert.equal(result.code, 0, result.stderr);
  const objects = parseAllDocuments(result.stdout).map((d) => d.toJS() as Obj);
  assert.deepEqual(
    objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`),
    [
      "PersistentVolume//fs1-alpha",
      "PersistentVolumeClaim/team-alpha/alpha",
      "PersistentVolume//fs2-readonly",
      "PersistentVolumeClaim/default/fs2-readonly",
    ],
  );
  for (const object of objects) assert.deepEqual(schemaProblems(object), [], object.metadata.name);
  const [alpha, alphaClaim, readonly] = objects;
  assert.deepEqual(alpha.spec.csi, {
    driver: "lustre.csi.klustrefs.io",
    volumeHandle: "fs1-alpha",
    volumeAttributes: {
      source: "10.0.0.1@tcp0:10.0.0.2@tcp0:/fs1",
      subdir: "projects/alpha",
      mountOptions: "flock,user_xattr",
    },
  });
  assert.equal(alpha.spec.persistentVolumeReclaimPolicy, "Retain");
  assert.equal(alpha.spec.storageClassName, "klustre-csi-static");
  assert.equal(alphaClaim.spec.volumeName, "fs1-alpha");
  assert.equal(alphaClaim.spec.storageClassName, "klustre-csi-static");
  assert.equal(alphaClaim.spec.resources.requests.storage, alpha.spec.capacity.storage);
  assert.deepEqual(readonly.spec.accessModes, ["ReadOnlyMany"]);
  assert.equal(readonly.spec.csi.volumeAttributes.mountOptions, "noatime");
});

Deno.test("schemaProblems() catches a misspelt field, so the validation above means something", () => {
  const problems = schemaProblems({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: "x" },
    spec: { capacity: { storage: "1Gi" }, persistentVolumeReclaimPolicy: "Keep", volumeHandel: 1 },
  });
  assert.equal(problems.length, 2, problems.join("\n"));
});

Deno.test("pv output stages and publishes on the driver as written", async () => {
  const result = await pv(INVENTORY);
  const [alpha] = parseAllDocuments(result.stdout).map((d) => d.toJS() as Obj);
  await using env = await startNodeEnv();
  await env.sim.mkdir("fs1", "projects/alpha");
  const context = alpha.spec.csi.volumeAttributes;
  await env.stage(alpha.spec.csi.volumeHandle, context);
  const target = await env.publish(alpha.spec.csi.volumeHandle, "pod-1", context);
  await Deno.writeTextFile(`${target}/hello`, "alpha");
  assert.equal(
    await Deno.readTextFile(`${env.sim.root}/srv/fs1/backing store/fs1/projects/alpha/hello`),
    "alpha",
  );
  await env.unpublish(alpha.spec.csi.volumeHandle, "pod-1");
  await env.unstage(alpha.spec.csi.volumeHandle);
});

Deno.test("pv refuses a bad inventory with exit 2, naming each bad entry and field", async () => {
  const bad = INVENTORY
    .replace("capacity: 10Ti", "capacity: 10TB")
    .replace("name: fs2-readonly", "name: fs1-alpha")
    .replace("source: 10.0.0.1@tcp:/fs2", "source: 10.0.0.1@tcp/fs2");
  const result = await pv(bad);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  const problems = result.stderr.split("\n").filter((l) => l.startsWith("  ")).map((l) => l.trim());
  assert.deepEqual(problems.map((p) => p.split(": ").slice(0, 2).join(": ")), [
    'fileSystems[1] "fs2": source',
    'volumes[0] "fs1-alpha": capacity',
    'volumes[1] "fs1-alpha": name',
  ]);
});
