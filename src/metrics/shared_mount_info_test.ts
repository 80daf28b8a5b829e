import assert from "node:assert/strict";
import { registerSharedMountInfo } from "./shared_mount_info.ts";
import { Registry } from "./prom.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { parseExposition } from "../../tests/support/prom_text.ts";
import { testMount } from "../../tests/support/mount_fixture.ts";

function mount(mountPoint: string): MountInfo {
  return testMount(mountPoint, { options: [], superOptions: [] });
}

Deno.test("registerSharedMountInfo() shows each shared mount with its tunables, and forgets released ones", async () => {
  const registry = new Registry();
  let mounts = [
    mount("/state/mounts/fs1-0123456789abcdef"),
    mount("/state/mounts/fs1-fedcba9876543210"),
    mount("/state/mounts/fs1-0123456789abcdef/inner"),
  ];
  registerSharedMountInfo(registry, {
    mountInfo: () => Promise.resolve(mounts),
    mountsDir: "/state/mounts",
    tunings: () =>
      Promise.resolve([{
        mount: "fs1-0123456789abcdef",
        params: ["llite.max_read_ahead_mb=1024", "osc.max_rpcs_in_flight=16"],
      }]),
  });
  const series = parseExposition(await registry.metrics());
  assert.equal(
    series.get(
      'klustre_csi_shared_mount_info{mount="fs1-0123456789abcdef",fs="fs1",lustre_params="llite.max_read_ahead_mb=1024,osc.max_rpcs_in_flight=16"}',
    ),
    1,
  );
  assert.equal(
    series.get(
      'klustre_csi_shared_mount_info{mount="fs1-fedcba9876543210",fs="fs1",lustre_params=""}',
    ),
    1,
  );
  assert.equal(
    [...series.keys()].filter((k) => k.startsWith("klustre_csi_shared_mount_info")).length,
    2,
  );
  mounts = [];
  const after = parseExposition(await registry.metrics());
  assert.equal(
    [...after.keys()].filter((k) => k.startsWith("klustre_csi_shared_mount_info")).length,
    0,
  );
});
