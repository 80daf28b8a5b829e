/**
 * Provisioning one volume: its record, allocated under a per-file-system
 * mutex, then its directory with mode, project ID, project quota and default
 * striping, then the record marked ready. Each step is safe to repeat, so a
 * retry after a failure or a restart finishes the job.
 */
import type { Config } from "../config.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { KeyedMutex } from "../keyed_mutex.ts";
import type { Logger } from "../log.ts";
import { withTimeout } from "../mount/path_health.ts";
import { encodeVolumeId, volumeDir, type VolumeLocation } from "../lustre/volume_id.ts";
import type { ControllerMounts } from "./controller_mounts.ts";
import { type ProvisionParams, volumeShape } from "./parameters.ts";
import { pickProjectId, type RecordStore, type VolumeRecord } from "./records.ts";
import { setProject, setProjectQuota, setStriping } from "./lustre_tools.ts";
import { exists } from "./_exists.ts";

/** What provisioning needs. */
export interface ProvisionDeps {
  readonly config: Pick<Config, "commandTimeoutMs">;
  readonly mounts: ControllerMounts;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Serialises record allocation per file system name; one for all calls. */
  readonly allocation: KeyedMutex;
}

/** One volume to provision, as CreateVolume resolved it. */
export interface ProvisionRequest {
  readonly name: string;
  readonly params: ProvisionParams;
  readonly location: VolumeLocation;
  readonly capacityBytes: number;
}

/**
 * Creates the volume's directory, or finds the one an earlier identical
 * request made, and returns its ready record.
 * @throws CsiError ALREADY_EXISTS when the directory or record belongs to something else
 */
export async function provision(
  deps: ProvisionDeps,
  request: ProvisionRequest,
): Promise<VolumeRecord> {
  const { runner, logger } = deps;
  const timeoutMs = deps.config.commandTimeoutMs;
  const { params, location, capacityBytes } = request;
  const dir = volumeDir(location);
  const volumeId = encodeVolumeId(location);
  const shape = volumeShape(params);
  return await deps.mounts.onFileSystem(params.source, async (mountPath, records) => {
    const path = `${mountPath}${dir}`;
    // One allocation at a time per file system name, however its MGS is spelt.
    const record = await deps.allocation.run(
      params.source.fsName,
      () => allocate(records, { ...request, dir, volumeId, shape, path, timeoutMs }),
    );
    if (record.state === "ready") return record;
    await withTimeout(path, timeoutMs, () => Deno.mkdir(path, { recursive: true }));
    await withTimeout(path, timeoutMs, () => Deno.chmod(path, params.directoryMode));
    await setProject(runner, path, record.projectId, timeoutMs);
    await setProjectQuota(runner, mountPath, record.projectId, {
      bytes: capacityBytes,
      inodes: params.inodeQuota,
    }, timeoutMs);
    await setStriping(runner, path, params.striping, timeoutMs);
    const ready: VolumeRecord = { ...record, state: "ready" };
    await records.write(ready);
    logger.info("Provisioned {dir} on {source} with project {projectId}", {
      volumeId,
      dir,
      source: params.source.fsSource,
      projectId: record.projectId,
      capacityBytes,
    });
    return ready;
  });
}

/** A request with what provision() derived from it, for allocate(). */
interface Allocation extends ProvisionRequest {
  readonly dir: string;
  readonly volumeId: string;
  readonly shape: Record<string, unknown>;
  /** The volume's directory under the controller's mount. */
  readonly path: string;
  readonly timeoutMs: number;
}

/**
 * The volume's record: the existing one when it matches the request, else a
 * fresh "creating" record with an unused project ID.
 */
async function allocate(records: RecordStore, request: Allocation): Promise<VolumeRecord> {
  const { name, params, capacityBytes, dir, shape } = request;
  const existing = await records.read(dir);
  if (existing) {
    if (existing.name !== name) {
      throw new CsiError(
        Code.ALREADY_EXISTS,
        `Cannot create volume "${name}": directory "${dir}" already belongs to volume "${existing.name}"`,
      );
    }
    const sameShape = JSON.stringify(existing.shape) === JSON.stringify(shape);
    if (existing.capacityBytes !== capacityBytes || !sameShape) {
      throw new CsiError(
        Code.ALREADY_EXISTS,
        `Cannot create volume "${name}": it exists with ${existing.capacityBytes} bytes and ` +
          `other parameters than this request (${capacityBytes} bytes)`,
      );
    }
    if (existing.state === "retained" || existing.state === "archived") {
      throw new CsiError(
        Code.ALREADY_EXISTS,
        `Cannot create volume "${name}": its directory "${dir}" was ${existing.state} on delete`,
      );
    }
    return existing;
  }
  if (await exists(request.path, request.timeoutMs)) {
    throw new CsiError(
      Code.ALREADY_EXISTS,
      `Cannot create volume "${name}": directory "${dir}" exists on "${params.source.fsSource}" ` +
        "and was not made by klustre-csi",
    );
  }
  const used = await records.usedProjectIds();
  const projectId = pickProjectId(name, params.projectIdMin, params.projectIdMax, used);
  const fresh: VolumeRecord = {
    version: 1,
    name,
    volumeId: request.volumeId,
    dir,
    projectId,
    capacityBytes,
    shape,
    onDelete: params.onDelete,
    state: "creating",
  };
  await records.write(fresh);
  return fresh;
}
