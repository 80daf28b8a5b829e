import assert from "node:assert/strict";
import { countLustreMounts, fsNameOf } from "./lustre_mounts.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { testMount } from "../../tests/support/mount_fixture.ts";

function mount(mountPoint: string, source: string): MountInfo {
  return testMount(mountPoint, { minor: 50, source });
}

const DIR = "/var/lib/klustre-csi/mounts";

Deno.test("countLustreMounts() counts shared mounts by file system name", () => {
  const counts = countLustreMounts([
    mount(`${DIR}/fs1-0123456789abcdef`, "10.0.0.1@tcp:/fs1"),
    mount(`${DIR}/fs1-fedcba9876543210`, "10.0.0.1@tcp:10.0.0.2@tcp:/fs1"),
    mount(`${DIR}/fs2-0123456789abcdef`, "10.0.0.1@tcp:/fs2"),
    mount("/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pv/mount", "10.0.0.1@tcp:/fs1"),
    mount(`${DIR}/fs1-0123456789abcdef/inner`, "10.0.0.1@tcp:/fs1"),
    mount(DIR, "tmpfs"),
  ], DIR);
  assert.deepEqual(Object.fromEntries(counts), { fs1: 2, fs2: 1 });
});

Deno.test("countLustreMounts() counts a mount stacked twice on one path once", () => {
  const path = `${DIR}/fs1-0123456789abcdef`;
  const counts = countLustreMounts([mount(path, "a@tcp:/fs1"), mount(path, "a@tcp:/fs1")], DIR);
  assert.deepEqual(Object.fromEntries(counts), { fs1: 1 });
});

Deno.test("countLustreMounts() falls back to the directory name when the source is not Lustre's", () => {
  const counts = countLustreMounts([mount(`${DIR}/lustre-fs-0123456789abcdef`, "none")], DIR);
  assert.deepEqual(Object.fromEntries(counts), { "lustre-fs": 1 });
});

Deno.test("fsNameOf() reads the file system name of a source", () => {
  const cases: [string, string | undefined][] = [
    ["10.0.0.1@tcp:/fs1", "fs1"],
    ["10.0.0.1@tcp:/fs1/sub/dir", "fs1"],
    ["mgs1@tcp:mgs2@tcp:/lustre-fs", "lustre-fs"],
    ["tmpfs", undefined],
    ["x:/", undefined],
  ];
  for (const [source, name] of cases) assert.equal(fsNameOf(source), name, source);
});
