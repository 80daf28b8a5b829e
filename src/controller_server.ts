/**
 * CSI Controller service: dynamic provisioning on an existing Lustre file
 * system. A volume is a directory with its own project ID and project quota;
 * its record on the file system (controller/records.ts) makes every call
 * idempotent and safe to retry after a restart.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ControllerExpandVolumeRequest,
  type ControllerExpandVolumeResponseSchema,
  type ControllerGetCapabilitiesResponseSchema,
  ControllerServiceCapability_RPC_Type as ControllerCap,
  type CreateVolumeRequest,
  type CreateVolumeResponseSchema,
  type DeleteVolumeRequest,
  type DeleteVolumeResponseSchema,
  type GetCapacityRequest,
  type GetCapacityResponseSchema,
  type ValidateVolumeCapabilitiesRequest,
  type ValidateVolumeCapabilitiesResponseSchema,
  type VolumeCapability,
} from "./csi/gen/csi_pb.ts";
import { Code, CsiError } from "./csi/csi_error.ts";
import { runOperation } from "./csi/operation_error.ts";
import { invalidArgument, requireMountCapability, requireVolumeId } from "./csi/requests.ts";
import type { Config } from "./config.ts";
import type { CommandRunner } from "./exec/command_runner.ts";
import type { Mounter } from "./mount/mounter.ts";
import type { Logger } from "./log.ts";
import { KeyedMutex } from "./keyed_mutex.ts";
import { SingleFlight } from "./single_flight.ts";
import { CONTROLLER_MOUNTS_FOLDER, SharedMounts } from "./node/shared_mounts.ts";
import { withTimeout } from "./mount/path_health.ts";
import type { LustreSource } from "./lustre/source.ts";
import { splitMountOptions } from "./lustre/mount_options.ts";
import {
  decodeVolumeId,
  encodeVolumeId,
  volumeDir,
  type VolumeLocation,
} from "./lustre/volume_id.ts";
import {
  expandTemplate,
  parseParameters,
  type ProvisionParams,
  volumeShape,
} from "./controller/parameters.ts";
import { pickProjectId, RecordStore, type VolumeRecord } from "./controller/records.ts";
import {
  roundCapacity,
  setProject,
  setProjectQuota,
  setStriping,
} from "./controller/lustre_tools.ts";
import { TOPOLOGY_KEY } from "./node_server.ts";

/** The Controller handlers, one per RPC. */
export interface ControllerHandlers {
  createVolume(
    r: CreateVolumeRequest,
  ): Promise<MessageInitShape<typeof CreateVolumeResponseSchema>>;
  deleteVolume(
    r: DeleteVolumeRequest,
  ): Promise<MessageInitShape<typeof DeleteVolumeResponseSchema>>;
  controllerExpandVolume(
    r: ControllerExpandVolumeRequest,
  ): Promise<MessageInitShape<typeof ControllerExpandVolumeResponseSchema>>;
  validateVolumeCapabilities(
    r: ValidateVolumeCapabilitiesRequest,
  ): Promise<MessageInitShape<typeof ValidateVolumeCapabilitiesResponseSchema>>;
  controllerGetCapabilities(): Promise<
    MessageInitShape<typeof ControllerGetCapabilitiesResponseSchema>
  >;
  getCapacity(r: GetCapacityRequest): Promise<MessageInitShape<typeof GetCapacityResponseSchema>>;
}

/** What the Controller handlers depend on. */
export interface ControllerDeps {
  readonly config: Pick<
    Config,
    | "kubeletDir"
    | "stateDir"
    | "mountTimeoutMs"
    | "unmountTimeoutMs"
    | "commandTimeoutMs"
    | "defaultMountOptions"
  >;
  readonly runner: CommandRunner;
  readonly mounter: Mounter;
  readonly logger: Logger;
  /** The Lustre client version, for unique_fsid. */
  readonly clientVersion: () => Promise<string>;
}

const CAPABILITIES = [ControllerCap.CREATE_DELETE_VOLUME, ControllerCap.EXPAND_VOLUME];

/** Builds the Controller handlers and the start-up step. */
export function controllerHandlers(
  deps: ControllerDeps,
): Omit<ControllerHandlers, "getCapacity"> & { prepare(): Promise<void> } {
  const { config, runner, logger } = deps;
  const timeoutMs = config.commandTimeoutMs;
  const shared = new SharedMounts({
    runner,
    mounter: deps.mounter,
    logger,
    stateDir: config.stateDir,
    // Apart from a node plugin's mounts, should both share one state dir on a host.
    mountsFolder: CONTROLLER_MOUNTS_FOLDER,
    kubeletDir: config.kubeletDir,
    mountTimeoutMs: config.mountTimeoutMs,
    unmountTimeoutMs: config.unmountTimeoutMs,
    checkTimeoutMs: timeoutMs,
    clientVersion: deps.clientVersion,
  });
  const allocation = new KeyedMutex();
  const deletions = new SingleFlight<void>();

  /**
   * The controller's own mount options: the settings' defaults, for every
   * call alike, so create, delete and expand share one mount per file system
   * (a StorageClass's mountOptions are for the nodes' mounts).
   */
  const controllerOptions = [...splitMountOptions(config.defaultMountOptions).client].sort();

  /** Runs `work` with the file system mounted on the controller. */
  function onFileSystem<T>(
    source: LustreSource,
    work: (mountPath: string, records: RecordStore) => Promise<T>,
  ): Promise<T> {
    return shared.withMount(
      { source, clientOptions: controllerOptions },
      (mount) => work(mount.path, new RecordStore(mount.path, timeoutMs)),
    );
  }

  function capacityOf(
    r: { capacityRange?: { requiredBytes: bigint; limitBytes: bigint } },
    id: string,
  ) {
    const required = Number(r.capacityRange?.requiredBytes ?? 0n);
    const limit = Number(r.capacityRange?.limitBytes ?? 0n);
    if (required < 0 || limit < 0) {
      throw invalidArgument({ action: "size", volumeId: id }, "capacity is negative");
    }
    const bytes = roundCapacity(required > 0 ? required : limit);
    if (limit > 0 && bytes > limit) {
      throw new CsiError(
        Code.OUT_OF_RANGE,
        `Cannot size volume "${id}": ${required} bytes rounded to whole KiB (${bytes}) exceed the limit of ${limit} bytes`,
      );
    }
    return bytes;
  }

  function requireCapabilities(action: string, id: string, capabilities: VolumeCapability[]) {
    if (capabilities.length === 0) {
      throw invalidArgument({ action, volumeId: id }, '"volumeCapabilities" is required');
    }
    for (const capability of capabilities) {
      requireMountCapability({ action, volumeId: id }, capability);
    }
  }

  async function provision(
    name: string,
    params: ProvisionParams,
    location: VolumeLocation,
    capacityBytes: number,
  ): Promise<VolumeRecord> {
    const dir = volumeDir(location);
    const volumeId = encodeVolumeId(location);
    const shape = volumeShape(params);
    return await onFileSystem(params.source, async (mountPath, records) => {
      // One allocation at a time per file system name, however its MGS is spelt.
      const record = await allocation.run(params.source.fsName, async () => {
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
        const path = `${mountPath}${dir}`;
        if (await exists(path, timeoutMs)) {
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
          volumeId,
          dir,
          projectId,
          capacityBytes,
          shape,
          onDelete: params.onDelete,
          state: "creating",
        };
        await records.write(fresh);
        return fresh;
      });
      if (record.state === "ready") return record;
      const path = `${mountPath}${dir}`;
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

  async function retire(location: VolumeLocation, volumeId: string) {
    const dir = volumeDir(location);
    await onFileSystem(location.source, async (mountPath, records) => {
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
      if (record.onDelete === "retain") {
        await records.write({ ...record, state: "retained" });
        logger.info("Retained {dir} of deleted volume {volumeId}", { dir, volumeId });
        return;
      }
      if (record.onDelete === "archive") {
        const archiveDir = `${mountPath}${location.base === "/" ? "" : location.base}/${
          String(record.shape.archiveDir)
        }`;
        const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
        const archived = `${archiveDir}/${location.relative.replaceAll("/", "_")}-${stamp}`;
        await withTimeout(
          archiveDir,
          timeoutMs,
          () => Deno.mkdir(archiveDir, { recursive: true, mode: 0o700 }),
        );
        if (await exists(path, timeoutMs)) {
          await withTimeout(path, timeoutMs, () => Deno.rename(path, archived));
        }
        await records.write({
          ...record,
          state: "archived",
          archivedTo: archived.slice(mountPath.length),
        });
        logger.info("Archived {dir} of deleted volume {volumeId} to {archivedTo}", {
          dir,
          volumeId,
          archivedTo: archived.slice(mountPath.length),
        });
        return;
      }
      await deletions.run(path, async () => {
        // Deno.remove does not follow symlinks: a link to elsewhere is removed, not its target.
        await withTimeout(path, config.mountTimeoutMs, () => Deno.remove(path, { recursive: true }))
          .catch((error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          });
      });
      await setProjectQuota(
        runner,
        mountPath,
        record.projectId,
        { bytes: 0, inodes: 0 },
        timeoutMs,
      );
      await records.remove(dir);
      logger.info("Deleted {dir} of volume {volumeId}", { dir, volumeId });
    });
  }

  return {
    async prepare() {
      await Deno.mkdir(config.stateDir, { recursive: true });
      await deps.mounter.makePrivate(config.stateDir);
    },

    async createVolume(r) {
      const context = { action: "create", volumeId: r.name };
      if (r.name === "") {
        throw invalidArgument({ action: "create", volumeId: "" }, '"name" is required');
      }
      // deno-lint-ignore no-control-regex -- the spec forbids control characters in names
      if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(r.name)) {
        throw invalidArgument(context, '"name" holds control characters');
      }
      requireCapabilities("create", r.name, r.volumeCapabilities);
      if (r.volumeContentSource) {
        throw invalidArgument(
          context,
          "creating a volume from a snapshot or another volume is not supported",
        );
      }
      let parsed;
      let relative;
      try {
        parsed = parseParameters(r.parameters);
        relative = expandTemplate(parsed.params.subdirTemplate, parsed.metadata, r.name);
      } catch (error) {
        throw invalidArgument(context, (error as Error).message);
      }
      const { params } = parsed;
      const capacityBytes = capacityOf(r, r.name);
      const location = { source: params.source, base: params.base, relative };
      const record = await runOperation(
        { action: "create", volumeId: r.name },
        volumeDir(location),
        () => provision(r.name, params, location, capacityBytes),
      );
      const subdir = record.dir.slice(1);
      return {
        volume: {
          volumeId: record.volumeId,
          capacityBytes: BigInt(record.capacityBytes),
          volumeContext: {
            source: params.source.fsSource,
            subdir,
            ...(params.mountOptions.length > 0
              ? { mountOptions: params.mountOptions.join(",") }
              : {}),
          },
          accessibleTopology: r.accessibilityRequirements
            ? [{ segments: { [TOPOLOGY_KEY]: "true" } }]
            : [],
        },
      };
    },

    async deleteVolume(r) {
      const volumeId = requireVolumeId("delete", r.volumeId);
      let location: VolumeLocation;
      try {
        location = decodeVolumeId(volumeId);
      } catch {
        logger.debug("Delete of a volume ID this driver never made: {volumeId}", { volumeId });
        return {};
      }
      await runOperation(
        { action: "delete", volumeId },
        volumeDir(location),
        () => retire(location, volumeId),
      );
      return {};
    },

    async controllerExpandVolume(r) {
      const volumeId = requireVolumeId("expand", r.volumeId);
      if (!r.capacityRange) {
        throw invalidArgument({ action: "expand", volumeId }, '"capacityRange" is required');
      }
      const capacityBytes = capacityOf(r, volumeId);
      const location = locate("expand", volumeId);
      const dir = volumeDir(location);
      const grown = await runOperation(
        { action: "expand", volumeId },
        dir,
        () =>
          onFileSystem(location.source, async (mountPath, records) => {
            const record = await records.read(dir);
            if (!record || record.volumeId !== volumeId || record.state !== "ready") {
              throw new CsiError(
                Code.NOT_FOUND,
                `Cannot expand volume "${volumeId}": it does not exist`,
              );
            }
            if (capacityBytes <= record.capacityBytes) return record.capacityBytes;
            await setProjectQuota(runner, mountPath, record.projectId, {
              bytes: capacityBytes,
              inodes: Number((record.shape.inodeQuota as number) ?? 0),
            }, timeoutMs);
            await records.write({ ...record, capacityBytes });
            logger.info("Expanded {volumeId} to {capacityBytes} bytes", {
              volumeId,
              capacityBytes,
            });
            return capacityBytes;
          }),
      );
      return { capacityBytes: BigInt(grown), nodeExpansionRequired: false };
    },

    async validateVolumeCapabilities(r) {
      const volumeId = requireVolumeId("validate", r.volumeId);
      if (r.volumeCapabilities.length === 0) {
        throw invalidArgument({ action: "validate", volumeId }, '"volumeCapabilities" is required');
      }
      const location = locate("validate", volumeId);
      const dir = volumeDir(location);
      await runOperation(
        { action: "validate", volumeId },
        dir,
        () =>
          onFileSystem(location.source, async (_mountPath, records) => {
            const record = await records.read(dir);
            if (!record || record.volumeId !== volumeId || record.state !== "ready") {
              throw new CsiError(
                Code.NOT_FOUND,
                `Cannot validate volume "${volumeId}": it does not exist`,
              );
            }
          }),
      );
      try {
        requireCapabilities("validate", volumeId, r.volumeCapabilities);
      } catch (error) {
        return { message: (error as Error).message };
      }
      return {
        confirmed: {
          volumeCapabilities: r.volumeCapabilities,
          volumeContext: r.volumeContext,
          parameters: r.parameters,
        },
      };
    },

    controllerGetCapabilities() {
      return Promise.resolve({
        capabilities: CAPABILITIES.map((type) => ({
          type: { case: "rpc" as const, value: { type } },
        })),
      });
    },
  };
}

/** Decodes a volume ID for calls where an unknown volume is NOT_FOUND. */
function locate(action: string, volumeId: string): VolumeLocation {
  try {
    return decodeVolumeId(volumeId);
  } catch (error) {
    throw new CsiError(
      Code.NOT_FOUND,
      `Cannot ${action} volume "${volumeId}": it is not a volume of this driver (${
        (error as Error).message
      })`,
    );
  }
}

async function exists(path: string, timeoutMs: number): Promise<boolean> {
  try {
    await withTimeout(path, timeoutMs, () => Deno.lstat(path));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
