import assert from "node:assert/strict";
import { expandTemplate, parseParameters, volumeShape } from "./parameters.ts";

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
  assert.equal(params.directoryMode, 0o2770);
  assert.equal(params.gid, undefined);
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

Deno.test("parseParameters() takes four-digit modes and a gid; refuses modes above 7777", () => {
  const mode = (directoryMode: string) =>
    parseParameters({ source: "10.0.0.1@tcp:/fs1", directoryMode }).params.directoryMode;
  assert.equal(parseParameters({ source: "10.0.0.1@tcp:/fs1" }).params.directoryMode, 0o2770);
  assert.equal(mode("2770"), 0o2770);
  assert.equal(mode("1777"), 0o1777);
  assert.equal(mode("0770"), 0o770);
  assert.equal(mode("750"), 0o750);
  assert.throws(
    () => mode("17777"),
    /parameter "directoryMode" "17777" is refused: it is above 7777/,
  );
  assert.throws(() => mode("0o777"), /not an octal mode/);
  assert.throws(() => mode("8"), /not an octal mode/);
  assert.throws(() => mode("77"), /fewer than three/);
  const { params } = parseParameters({ source: "10.0.0.1@tcp:/fs1", gid: "2000" });
  assert.equal(params.gid, 2000);
  assert.throws(
    () => parseParameters({ source: "10.0.0.1@tcp:/fs1", gid: "staff" }),
    /parameter "gid" "staff"/,
  );
});

Deno.test("parseParameters() reads encryption and kms, refusing one without the other", () => {
  const base = { source: "10.0.0.1@tcp:/fs1" };
  assert.equal(parseParameters(base).params.encryption, undefined);
  const kmip = parseParameters({ ...base, encryption: "true", kms: "kmip" }).params;
  assert.deepEqual(kmip.encryption, { kms: "kmip" });
  assert.equal(volumeShape(kmip).encryption, "kmip");
  assert.equal("encryption" in volumeShape(parseParameters(base).params), false);
  assert.deepEqual(
    parseParameters({ ...base, encryption: "true", kms: "secret" }).params.encryption,
    { kms: "secret" },
  );
  assert.throws(() => parseParameters({ ...base, encryption: "yes" }), /"encryption" "yes" is not/);
  assert.throws(
    () => parseParameters({ ...base, encryption: "true" }),
    /parameter "kms" is required with "encryption" "true"/,
  );
  assert.throws(
    () => parseParameters({ ...base, encryption: "true", kms: "vault" }),
    /"kms" "vault" is not one of kmip, secret/,
  );
  assert.throws(() => parseParameters({ ...base, kms: "kmip" }), /needs parameter "encryption"/);
});

Deno.test("parseParameters() takes lustreParams in canonical form and refuses unknown tunables by name", () => {
  const { params } = parseParameters({
    source: "10.0.0.1@tcp:/fs1",
    lustreParams: "osc.*.max_rpcs_in_flight=16 llite.max_read_ahead_mb=1024",
  });
  assert.deepEqual(params.lustreParams, [
    "llite.max_read_ahead_mb=1024",
    "osc.max_rpcs_in_flight=16",
  ]);
  assert.throws(
    () => parseParameters({ source: "10.0.0.1@tcp:/fs1", lustreParams: "ldlm.lru_size=0" }),
    /parameter "lustreParams" .* "ldlm\.lru_size" is not an allowed client tunable/,
  );
});

Deno.test("parseParameters() checks the hotNodes parameters and keeps those given for the volume context", () => {
  const { params } = parseParameters({
    source: "10.0.0.1@tcp:/fs1",
    hotNodes: "true",
    pccCache: "/csi-pcc",
    pccAutocache: "fname={*.h5}",
  });
  assert.deepEqual(params.pcc, {
    hotNodes: "true",
    pccCache: "/csi-pcc",
    pccAutocache: "fname={*.h5}",
  });
  assert.throws(
    () =>
      parseParameters({
        source: "10.0.0.1@tcp:/fs1",
        hotNodes: "true",
        pccCache: "/c",
        pccPurgeLowUsage: "95",
      }),
    /"pccPurgeLowUsage" 95 must be below "pccPurgeHighUsage" 90/,
  );
});

Deno.test("parseParameters() takes compression and its chunk into the striping, and refuses a chunk alone", () => {
  const { params } = parseParameters({
    source: "10.0.0.1@tcp:/fs1",
    compression: "zstd:3",
    compressionChunk: "1M",
    stripeCount: "2",
  });
  assert.deepEqual(params.striping, { count: 2, compression: "zstd:3", compressionChunk: "1M" });
  assert.throws(
    () => parseParameters({ source: "10.0.0.1@tcp:/fs1", compressionChunk: "1M" }),
    /"compressionChunk" needs parameter "compression"/,
  );
});
