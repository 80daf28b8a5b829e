/** The encrypted StorageClass examples (manifests/examples, docs/encryption.md) are ones the driver takes. */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { parseParameters } from "../src/controller/parameters.ts";
import { KMS_SECRET_KEYS } from "../src/kms/kms_secrets.ts";
import { DRIVER_NAME } from "../src/version.ts";
import { EXAMPLES_DIR, type Obj, readDocs } from "./support/manifests.ts";
import { schemaProblems } from "./support/k8s_schema.ts";

/** A StorageClass and the Secret it names: the class parses, the Secret has the KMS's keys. */
function assertEncryptedClass(objects: Obj[], kms: "kmip" | "secret") {
  const sc = objects.find((o) => o.kind === "StorageClass");
  assert.ok(sc, "a StorageClass");
  assert.equal(sc.provisioner, DRIVER_NAME);
  assert.deepEqual(schemaProblems(sc), []);
  const { params } = parseParameters(sc.parameters);
  assert.deepEqual(params.encryption, { kms });
  const p = sc.parameters as Record<string, string>;
  const name = p["csi.storage.k8s.io/provisioner-secret-name"];
  const namespace = p["csi.storage.k8s.io/provisioner-secret-namespace"];
  assert.equal(p["csi.storage.k8s.io/node-stage-secret-name"], name);
  assert.equal(p["csi.storage.k8s.io/node-stage-secret-namespace"], namespace);
  assert.equal(namespace, "klustre-system", "where the provisioner may read Secrets");
  const secret = objects.find((o) => o.kind === "Secret");
  assert.ok(secret, "the Secret");
  assert.equal(secret.metadata.name, name);
  assert.equal(secret.metadata.namespace, namespace);
  const keys = Object.keys({ ...secret.stringData, ...secret.data });
  for (const key of KMS_SECRET_KEYS[kms]) assert.ok(keys.includes(key), `the Secret has ${key}`);
}

Deno.test("manifests/examples/encrypted-storageclass.yaml is an encrypted class with its Secret", () => {
  assertEncryptedClass(readDocs(`${EXAMPLES_DIR}/encrypted-storageclass.yaml`), "secret");
});

Deno.test("docs/encryption.md's KMIP and Secret examples are classes the driver takes", () => {
  const text = Deno.readTextFileSync(new URL("../docs/encryption.md", import.meta.url));
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) =>
    parseAllDocuments(m[1]).map((d) => d.toJS() as Obj)
  );
  assert.equal(blocks.length, 2);
  assertEncryptedClass(blocks[0], "kmip");
  assertEncryptedClass(blocks[1], "secret");
});
