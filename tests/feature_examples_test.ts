/** The feature examples (manifests/examples/*-storageclass.yaml of docs/tunables.md etc.) are valid. */
import assert from "node:assert/strict";
import { assertValidObjects, EXAMPLES_DIR, readDocs } from "./support/manifests.ts";
import { parseParameters } from "../src/controller/parameters.ts";

const FEATURE_EXAMPLES = [
  "tunables-storageclass.yaml",
  "pcc-storageclass.yaml",
  "compression-storageclass.yaml",
];

Deno.test("feature example StorageClasses validate against the API schemas and the controller's parameters", () => {
  for (const file of FEATURE_EXAMPLES) {
    const objects = readDocs(`${EXAMPLES_DIR}/${file}`);
    assertValidObjects(objects);
    for (const sc of objects.filter((o) => o.kind === "StorageClass")) {
      assert.doesNotThrow(() => parseParameters(sc.parameters), `${file}: ${sc.metadata.name}`);
    }
  }
});
