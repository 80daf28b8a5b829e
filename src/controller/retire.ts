/**
 * Retiring a deleted volume by its StorageClass's delete policy: "retain"
 * keeps the directory, "archive" moves it aside, "delete" removes it and
 * clears its project quota. Only a directory with the driver's record is
 * touched.
 */
import type { Config } from "../config.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import { withTimeout } from "../mount/path_health.ts";
import type { SingleFlight } from "../single_flight.ts";
import { volumeDir, type VolumeLocation } from "../lustre/volume_id.ts";
import type { ControllerMounts } from "./controller_mounts.ts";
import type { RecordStore, VolumeRecord } from "./records.ts";
import { setProjectQuota } from "./lustre_tools.ts";
import { exists } from "./_exists.ts";
import type { KmsKind } from "../kms/volume_keys.ts";

/** What retiring needs. */
export interface RetireDeps {
  /** commandTimeoutMs bounds each step, mountTimeoutMs the recursive delete. */
  readonly config: Pick<Config, "commandTimeoutMs" | "mountTimeoutMs">;
  readonly mounts: ControllerMounts;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Joins concurrent deletes of one directory into one; one for all calls. */
  readonly deletions: SingleFlight<void>;
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
  await deps.mounts.onFileSystem(location.source, async (mountPath, records) => {
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
      await remove(deps, retiring);
    }
  });
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

/** Deletes the directory (one delete per directory at a time), its quota and its record. */
async function remove(deps: RetireDeps, retiring: Retiring): Promise<void> {
  const { mountPath, path, record, dir, volumeId } = retiring;
  await deps.deletions.run(path, async () => {
    // Deno.remove does not follow symlinks: a link to elsewhere is removed, not its target.
    await withTimeout(
      path,
      deps.config.mountTimeoutMs,
      () => Deno.remove(path, { recursive: true }),
    )
      .catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
  });
  await setProjectQuota(
    deps.runner,
    mountPath,
    record.projectId,
    { bytes: 0, inodes: 0 },
    deps.config.commandTimeoutMs,
  );
  // Only once the directory is gone: the key is what could still read it.
  const kms = record.encryption?.kms;
  if (kms === "kmip") {
    if (!retiring.destroyKey) throw new Error("an encrypted volume's delete needs destroyKey");
    await retiring.destroyKey(kms);
    deps.logger.info("Destroyed the KMIP key of deleted volume {volumeId}", { volumeId });
  }
  await retiring.records.remove(dir);
  deps.logger.info("Deleted {dir} of volume {volumeId}", { dir, volumeId });
}
