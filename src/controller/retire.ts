/**
 * Retiring a deleted volume by its StorageClass's delete policy: "retain"
 * keeps the directory, "archive" moves it aside, "delete" renames it into
 * the file system's trash (one rename, however big the tree) for the
 * background purger, which clears its project quota and frees its ID once
 * the tree is gone. Only a directory with the driver's record is touched,
 * and every step runs under the file system's lock, so a second controller
 * never sees or writes a half-retired record.
 */
import type { Config } from "../config.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import { withTimeout } from "../mount/path_health.ts";
import { volumeDir, type VolumeLocation } from "../lustre/volume_id.ts";
import type { FileSystems } from "./controller_mounts.ts";
import type { RecordStore, VolumeRecord } from "./records.ts";
import { exists } from "./_exists.ts";
import type { KmsKind } from "../kms/volume_keys.ts";
import { newTrashToken, trashPath, writeTrashEntry } from "./trash.ts";

/** What retiring needs. */
export interface RetireDeps {
  /** commandTimeoutMs bounds each step. */
  readonly config: Pick<Config, "commandTimeoutMs">;
  readonly mounts: FileSystems;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Told when a tree went to the trash of a file system. */
  readonly trashed: (source: VolumeLocation["source"]) => void;
  /** The clock that stamps archive directories. */
  readonly now: () => Date;
}

/** One volume to retire, as DeleteVolume decoded it. */
export interface RetireRequest {
  readonly volumeId: string;
  readonly location: VolumeLocation;
  /** Destroys the KMS key of an encrypted volume (called once its directory is gone). */
  readonly destroyKey?: (kms: KmsKind) => Promise<void>;
}

/**
 * Applies the volume's delete policy. A volume already gone, retained or
 * archived is left as it is.
 * @throws CsiError FAILED_PRECONDITION for a directory the driver did not provision
 */
export async function retire(deps: RetireDeps, request: RetireRequest): Promise<void> {
  const { volumeId, location } = request;
  const timeoutMs = deps.config.commandTimeoutMs;
  const dir = volumeDir(location);
  let trashed = false;
  await deps.mounts.onFileSystem(
    location.source,
    (mountPath, records, fs) =>
      fs.lock.run(async () => {
        const record = await records.read(dir);
        const path = `${mountPath}${dir}`;
        if (!record || record.volumeId !== volumeId) {
          if (await exists(path, timeoutMs)) {
            throw new CsiError(
              Code.FAILED_PRECONDITION,
              `Cannot delete volume "${volumeId}": directory "${dir}" was not provisioned by klustre-csi; ` +
                "it is left untouched",
            );
          }
          return;
        }
        if (record.state === "retained" || record.state === "archived") return;
        const retiring = { ...request, dir, path, mountPath, record, records };
        if (record.onDelete === "retain") {
          await records.write({ ...record, state: "retained" });
          deps.logger.info("Retained {dir} of deleted volume {volumeId}", { dir, volumeId });
        } else if (record.onDelete === "archive") {
          await archive(deps, retiring);
        } else {
          await moveToTrash(deps, retiring);
          trashed = true;
        }
      }),
  );
  if (trashed) deps.trashed(location.source);
}

/** A volume being retired, with its record on the mounted file system. */
interface Retiring extends RetireRequest {
  /** The volume's directory inside the file system. */
  readonly dir: string;
  /** The volume's directory under the controller's mount. */
  readonly path: string;
  readonly mountPath: string;
  readonly record: VolumeRecord;
  readonly records: RecordStore;
}

/** Moves the directory into the archive folder of its base, named with the time. */
async function archive(deps: RetireDeps, retiring: Retiring): Promise<void> {
  const { location, mountPath, path, record, dir, volumeId } = retiring;
  const timeoutMs = deps.config.commandTimeoutMs;
  const archiveDir = `${mountPath}${location.base === "/" ? "" : location.base}/${
    String(record.shape.archiveDir)
  }`;
  const stamp = deps.now().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const archived = `${archiveDir}/${location.relative.replaceAll("/", "_")}-${stamp}`;
  await withTimeout(
    archiveDir,
    timeoutMs,
    () => Deno.mkdir(archiveDir, { recursive: true, mode: 0o700 }),
  );
  if (await exists(path, timeoutMs)) {
    await withTimeout(path, timeoutMs, () => Deno.rename(path, archived));
  }
  await retiring.records.write({
    ...record,
    state: "archived",
    archivedTo: archived.slice(mountPath.length),
  });
  deps.logger.info("Archived {dir} of deleted volume {volumeId} to {archivedTo}", {
    dir,
    volumeId,
    archivedTo: archived.slice(mountPath.length),
  });
}

/**
 * Moves the directory into the trash: the record first says which entry it
 * goes to (state "deleting"), then the entry is described, the directory
 * renamed into it, and the record removed. A retry after a crash finds the
 * "deleting" record and finishes the same entry; the purger leaves an entry
 * alone while a record still points at it.
 */
async function moveToTrash(deps: RetireDeps, retiring: Retiring): Promise<void> {
  const { mountPath, path, record, dir, volumeId, records } = retiring;
  const timeoutMs = deps.config.commandTimeoutMs;
  const token = record.state === "deleting" && record.trash
    ? record.trash
    : newTrashToken(deps.now());
  if (record.state !== "deleting") {
    await records.write({ ...record, state: "deleting", trash: token });
  }
  await writeTrashEntry(mountPath, token, {
    volumeId,
    dir,
    projectId: record.projectId,
    trashedAt: deps.now().toISOString(),
  }, timeoutMs);
  const tree = `${trashPath(mountPath)}/${token}/tree`;
  if (await exists(path, timeoutMs) && !(await exists(tree, timeoutMs))) {
    await withTimeout(path, timeoutMs, () => Deno.rename(path, tree));
  }
  // Once the directory is in the trash it can never be a volume again: its KMIP key goes now,
  // before the record (a retry after a failed destroy finds the "deleting" record and tries again).
  const kms = record.encryption?.kms;
  if (kms === "kmip") {
    if (!retiring.destroyKey) throw new Error("an encrypted volume's delete needs destroyKey");
    await retiring.destroyKey(kms);
    deps.logger.info("Destroyed the KMIP key of deleted volume {volumeId}", { volumeId });
  }
  await records.remove(dir);
  await records.forgetName(record.name, dir);
  deps.logger.info("Deleted volume {volumeId}: moved {dir} to the trash ({trash}) to be purged", {
    dir,
    volumeId,
    trash: token,
  });
}
