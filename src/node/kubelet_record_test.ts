import assert from "node:assert/strict";
import { kubeletStaged, VOL_DATA_FILE } from "./kubelet_record.ts";

Deno.test("kubeletStaged() is true only for a staging directory whose vol_data.json names the volume", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kubelet-record-" });
  try {
    const staging = `${dir}/abc/globalmount`;
    assert.equal(await kubeletStaged(staging, "pv-1"), false, "nothing there");
    await Deno.mkdir(staging, { recursive: true });
    assert.equal(
      await kubeletStaged(staging, "pv-1"),
      false,
      "a directory without kubelet's record",
    );
    await Deno.writeTextFile(`${dir}/abc/${VOL_DATA_FILE}`, "{not json");
    assert.equal(await kubeletStaged(staging, "pv-1"), false, "an unreadable record");
    await Deno.writeTextFile(
      `${dir}/abc/${VOL_DATA_FILE}`,
      JSON.stringify({ driverName: "lustre.csi.klustrefs.io", volumeHandle: "pv-1" }),
    );
    assert.equal(await kubeletStaged(staging, "pv-1"), true);
    assert.equal(await kubeletStaged(staging, "pv-2"), false, "another volume's record");
    await Deno.remove(staging);
    await Deno.writeTextFile(staging, "");
    assert.equal(await kubeletStaged(staging, "pv-1"), false, "a file, not a directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
