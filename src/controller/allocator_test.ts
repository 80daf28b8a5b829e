import assert from "node:assert/strict";
import { Allocator } from "./allocator.ts";
import { RecordStore, type VolumeRecord } from "./records.ts";
import { writeTrashEntry } from "./trash.ts";

function record(name: string, projectId: number, state: VolumeRecord["state"]): VolumeRecord {
  return {
    version: 1,
    name,
    volumeId: `lustre.v1:10.0.0.1@tcp:/fs1//${name}`,
    dir: `/${name}`,
    projectId,
    capacityBytes: 1024,
    shape: {},
    onDelete: "delete",
    state,
  };
}

Deno.test("Allocator.claim() builds the allocator once from the records and the trash of an older version", async () => {
  const mount = await Deno.makeTempDir({ prefix: "klustre-alloc-" });
  try {
    const records = new RecordStore(mount, 10_000);
    await records.write(record("a", 10, "ready"));
    await records.write(record("b", 12, "retained"));
    await records.write(record("half", 11, "creating"));
    await writeTrashEntry(mount, "t1", {
      volumeId: "x",
      dir: "/x",
      projectId: 13,
      trashedAt: "",
    }, 10_000);
    const allocator = new Allocator(mount, records, 10_000);
    assert.equal(await allocator.claim(10, 20), 14, "10-13 are held by records and the trash");
    assert.deepEqual(JSON.parse(await Deno.readTextFile(allocator.path)).used, [[10, 14]]);
    assert.equal(await records.dirOfName("half"), "/half", "half-made volumes join the name index");
    await allocator.release(11);
    assert.equal(await allocator.claim(10, 20), 11, "a released ID is handed out again first");
    assert.equal(await allocator.claim(10, 20), 15);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(allocator.path)).used, [[10, 15]]);
    await assert.rejects(allocator.claim(10, 10), RangeError);
  } finally {
    await Deno.remove(mount, { recursive: true });
  }
});
