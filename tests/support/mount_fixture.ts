/** Mount table entries for unit tests: a Lustre mount of fs1 unless told otherwise. */
import type { MountInfo } from "../../src/mount/mountinfo.ts";

/** One mountinfo entry at `mountPoint`, with any fields overridden. */
export function testMount(mountPoint: string, fields: Partial<MountInfo> = {}): MountInfo {
  return {
    id: 1,
    parentId: 0,
    major: 0,
    minor: 1,
    root: "/",
    mountPoint,
    options: ["rw"],
    optionalFields: [],
    fsType: "lustre",
    source: "10.0.0.1@tcp:/fs1",
    superOptions: ["rw"],
    ...fields,
  };
}
