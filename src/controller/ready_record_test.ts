import assert from "node:assert/strict";
import { Code, CsiError } from "../csi/csi_error.ts";
import { readyRecord } from "./ready_record.ts";
import { RecordStore, type VolumeRecord } from "./records.ts";

const RECORD: VolumeRecord = {
  version: 1,
  name: "pvc-1",
  volumeId: "vol-1",
  dir: "/k8s/pvc-1",
  projectId: 1000,
  capacityBytes: 1024,
  shape: {},
  onDelete: "delete",
  state: "ready",
};

function notFound(message: RegExp) {
  return (error: unknown) =>
    error instanceof CsiError && error.code === Code.NOT_FOUND && message.test(error.message);
}

Deno.test("readyRecord() returns the ready record of the volume and NOT_FOUND naming the action otherwise", async () => {
  const mount = await Deno.makeTempDir({ prefix: "klustre-ready-" });
  try {
    const records = new RecordStore(mount, 5000);
    await assert.rejects(
      readyRecord(records, "/k8s/pvc-1", "vol-1", "expand"),
      notFound(/^Cannot expand volume "vol-1": it does not exist$/),
    );
    await records.write(RECORD);
    assert.deepEqual(await readyRecord(records, "/k8s/pvc-1", "vol-1", "modify"), RECORD);
    await assert.rejects(
      readyRecord(records, "/k8s/pvc-1", "vol-2", "modify"),
      notFound(/"vol-2"/),
    );
    await records.write({ ...RECORD, state: "deleting" });
    await assert.rejects(
      readyRecord(records, "/k8s/pvc-1", "vol-1", "validate"),
      notFound(/^Cannot validate volume "vol-1"/),
    );
  } finally {
    await Deno.remove(mount, { recursive: true });
  }
});
