/** The record of a volume that exists and is ready, or NOT_FOUND. */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { RecordStore, VolumeRecord } from "./records.ts";

/**
 * Reads the record at `dir` and checks it is volume `volumeId`'s, in state "ready".
 * @throws CsiError NOT_FOUND "Cannot `action` volume ...: it does not exist" otherwise
 */
export async function readyRecord(
  records: RecordStore,
  dir: string,
  volumeId: string,
  action: string,
): Promise<VolumeRecord> {
  const record = await records.read(dir);
  if (!record || record.volumeId !== volumeId || record.state !== "ready") {
    throw new CsiError(Code.NOT_FOUND, `Cannot ${action} volume "${volumeId}": it does not exist`);
  }
  return record;
}
