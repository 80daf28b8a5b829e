import assert from "node:assert/strict";
import { expandTemplate, parseParameters } from "./parameters.ts";

Deno.test("parseParameters() resolves defaults, base and the PVC metadata the provisioner adds", () => {
  const { params, metadata } = parseParameters({
    source: "10.0.0.1@tcp0:/fs1/projects",
    basePath: "k8s",
    subdirTemplate: "${pvc.metadata.namespace}/${pvc.metadata.name}",
    "csi.storage.k8s.io/pvc/name": "data",
    "csi.storage.k8s.io/pvc/namespace": "team-a",
    "csi.storage.k8s.io/pv/name": "pvc-123",
  });
  assert.equal(params.source.fsSource, "10.0.0.1@tcp:/fs1");
  assert.equal(params.base, "/projects/k8s");
  assert.equal(params.onDelete, "delete");
  assert.equal(params.projectIdMin, 1000000);
  assert.equal(params.directoryMode, 0o777);
  assert.equal(expandTemplate(params.subdirTemplate, metadata, "pvc-123"), "team-a/data");
});

Deno.test("expandTemplate() refuses missing metadata, slashes in values and unknown placeholders", () => {
  assert.equal(expandTemplate("${pv.metadata.name}", {}, "pvc-9"), "pvc-9");
  assert.throws(() => expandTemplate("${pvc.metadata.name}", {}, "x"), /--extra-create-metadata/);
  assert.throws(
    () => expandTemplate("${pvc.metadata.name}", { pvcName: "a/b" }, "x"),
    /holds a "\/"/,
  );
  assert.throws(() => expandTemplate("${pod.name}", {}, "x"), /is not one of/);
  assert.throws(() => expandTemplate("..", {}, "x"), /"\.\."/);
});
