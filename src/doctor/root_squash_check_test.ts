import assert from "node:assert/strict";
import { parseLustreSource } from "../lustre/source.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { checkRootSquash } from "./root_squash_check.ts";
import { testMount } from "../../tests/support/mount_fixture.ts";

const source = parseLustreSource("10.0.0.1@tcp:/fs1");

function mount(fsType: string, mountPoint: string, root = "/"): MountInfo {
  return testMount(mountPoint, { fsType, root, superOptions: [] });
}

Deno.test("checkRootSquash() fails with the fix when root is squashed, passes when not, says nothing without a mount", async () => {
  const mounts = () => Promise.resolve([mount("lustre", "/state/controller-mounts/a")]);
  const squashed = await checkRootSquash(source, {
    mountInfo: mounts,
    reason: () => Promise.resolve("a directory root makes is owned by uid 65534, not 0"),
  });
  assert.equal(squashed?.ok, false);
  assert.match(squashed?.detail ?? "", /uid 65534/);
  assert.match(squashed?.fix ?? "", /nosquash_nids/);
  const fine = await checkRootSquash(source, {
    mountInfo: mounts,
    reason: () => Promise.resolve(undefined),
  });
  assert.equal(fine?.ok, true);
  const none = await checkRootSquash(source, {
    mountInfo: () => Promise.resolve([mount("lustre", "/sub", "/k8s")]),
    reason: () => Promise.reject(new Error("not called")),
  });
  assert.equal(none, undefined, "no line without a mount of the file system's root");
});
