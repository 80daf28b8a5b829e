import assert from "node:assert/strict";
import { resolveVolume, UnknownVolumeError } from "./volume_spec.ts";

const base = {
  volumeId: "pv-1",
  mountFlags: [] as string[],
  defaultMountOptions: ["flock", "user_xattr"],
};

Deno.test("resolveVolume() merges defaults < mount_flags < the mountOptions attribute", () => {
  const spec = resolveVolume({
    ...base,
    mountFlags: ["noatime,lazystatfs", "nosuid"],
    volumeContext: {
      source: "10.0.0.1@tcp0:/fs1/proj",
      subdir: "team/a",
      mountOptions: "noflock,ro",
    },
  });
  assert.equal(spec.source.fsSource, "10.0.0.1@tcp:/fs1");
  assert.equal(spec.dir, "/proj/team/a");
  assert.deepEqual(spec.clientOptions, ["lazystatfs", "noflock", "user_xattr"]);
  assert.deepEqual([...spec.bindFlags].sort(), ["noatime", "nosuid"]);
  assert.equal(spec.readOnly, true);
});

Deno.test("resolveVolume() accepts Kubernetes' own attributes and refuses unknown ones by name", () => {
  const spec = resolveVolume({
    ...base,
    volumeContext: {
      source: "10.0.0.1@tcp:/fs1",
      "csi.storage.k8s.io/pod.name": "p",
      "storage.kubernetes.io/csiProvisionerIdentity": "x",
    },
  });
  assert.equal(spec.dir, "/");
  assert.throws(
    () =>
      resolveVolume({ ...base, volumeContext: { source: "10.0.0.1@tcp:/fs1", readOnly: "true" } }),
    /volume attribute "readOnly" is not known/,
  );
});

Deno.test("resolveVolume() finds a dynamic volume from its ID when the attributes are missing", () => {
  const spec = resolveVolume({
    ...base,
    volumeId: "lustre.v1:10.0.0.1@tcp:/fs1/k8s//pvc-9",
    volumeContext: {},
  });
  assert.equal(spec.source.fsSource, "10.0.0.1@tcp:/fs1");
  assert.equal(spec.dir, "/k8s/pvc-9");
  assert.throws(() => resolveVolume({ ...base, volumeContext: {} }), UnknownVolumeError);
  assert.throws(
    () => resolveVolume({ ...base, volumeContext: { subdir: "a" } }),
    /"source" is required/,
  );
});

Deno.test("resolveVolume() reads the lustreParams attribute and refuses a tunable off the allow-list by name", () => {
  const spec = resolveVolume({
    ...base,
    volumeContext: { source: "10.0.0.1@tcp:/fs1", lustreParams: "osc.max_rpcs_in_flight=16" },
  });
  assert.deepEqual(spec.lustreParams, [{ family: "osc", name: "max_rpcs_in_flight", value: 16 }]);
  assert.throws(
    () =>
      resolveVolume({
        ...base,
        volumeContext: { source: "10.0.0.1@tcp:/fs1", lustreParams: "llite.foo=1" },
      }),
    /lustreParams "llite\.foo=1" is refused: parameter "llite\.foo" is not an allowed client tunable/,
  );
});
