import assert from "node:assert/strict";
import { decodeVolumeId, encodeVolumeId, volumeDir } from "./volume_id.ts";
import { parseLustreSource } from "./source.ts";

Deno.test("encodeVolumeId() and decodeVolumeId() round-trip file system, base and directory", () => {
  const source = parseLustreSource("10.0.0.1@tcp0:10.0.0.2@tcp:/fs1");
  for (const [base, relative] of [["/", "pvc-1"], ["/k8s/vols", "ns/claim"]]) {
    const id = encodeVolumeId({ source, base, relative });
    const back = decodeVolumeId(id);
    assert.equal(back.source.fsSource, "10.0.0.1@tcp:10.0.0.2@tcp:/fs1");
    assert.equal(back.base, base);
    assert.equal(back.relative, relative);
  }
  assert.equal(
    encodeVolumeId({ source, base: "/k8s", relative: "pvc-1" }),
    "lustre.v1:10.0.0.1@tcp:10.0.0.2@tcp:/fs1/k8s//pvc-1",
  );
  assert.equal(volumeDir({ source, base: "/k8s", relative: "a/b" }), "/k8s/a/b");
});

Deno.test("decodeVolumeId() rejects foreign, malformed and escaping IDs", () => {
  for (
    const id of [
      "reallyfakevolumeid",
      "lustre.v1:10.0.0.1@tcp:/fs1/k8s",
      "lustre.v1:10.0.0.1@tcp:/fs1/k8s//",
      "lustre.v1:10.0.0.1@tcp:/fs1/k8s//../etc",
      "lustre.v1:10.0.0.1@tcp:/fs1/k8s//a/../../b",
      "lustre.v1:10.0.0.1@tcp:/fs1/../k8s//a",
      "lustre.v1:nonid:/fs1//a",
    ]
  ) {
    assert.throws(() => decodeVolumeId(id), SyntaxError, id);
  }
});
