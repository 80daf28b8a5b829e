/**
 * CSI Controller service: dynamic provisioning on an existing Lustre file
 * system. A volume is a directory with its own project ID and project quota;
 * its record on the file system (controller/records.ts) makes every call
 * idempotent and safe to retry after a restart. The handlers check the
 * request and run the steps; controller/provision.ts creates volumes,
 * controller/retire.ts applies the delete policy, and
 * controller/controller_mounts.ts mounts the file systems they work on.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type ControllerExpandVolumeRequest,
  type ControllerExpandVolumeResponseSchema,
  type ControllerGetCapabilitiesResponseSchema,
  type ControllerModifyVolumeRequest,
  type ControllerModifyVolumeResponseSchema,
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
import { KeyedMutex } from "./keyed_mutex.ts";
import { decodeVolumeId, volumeDir, type VolumeLocation } from "./lustre/volume_id.ts";
import { expandTemplate, parseParameters } from "./controller/parameters.ts";
import { setProjectQuota } from "./controller/lustre_tools.ts";
import { capacityOf } from "./controller/capacity.ts";
import {
  ControllerMounts,
  type ControllerMountsDeps,
  type FileSystems,
} from "./controller/controller_mounts.ts";
import { TrashPurger } from "./controller/purger.ts";
import { modifyVolume, parseMutableParameters } from "./controller/modify.ts";
import type { Registry } from "./metrics/prom.ts";
import { provision, type ProvisionDeps } from "./controller/provision.ts";
import { Preflight } from "./controller/preflight.ts";
import { retire, type RetireDeps } from "./controller/retire.ts";
import { TOPOLOGY_KEY } from "./node_server.ts";
import { type Fscrypt, WorkerFscrypt } from "./crypto/fscrypt.ts";
import { classKeys, destroyVolumeKey, encryptionContext } from "./controller/volume_encryption.ts";
import { readyRecord } from "./controller/ready_record.ts";

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
  controllerModifyVolume(
    r: ControllerModifyVolumeRequest,
  ): Promise<MessageInitShape<typeof ControllerModifyVolumeResponseSchema>>;
  validateVolumeCapabilities(
    r: ValidateVolumeCapabilitiesRequest,
  ): Promise<MessageInitShape<typeof ValidateVolumeCapabilitiesResponseSchema>>;
  controllerGetCapabilities(): Promise<
    MessageInitShape<typeof ControllerGetCapabilitiesResponseSchema>
  >;
  getCapacity(r: GetCapacityRequest): Promise<MessageInitShape<typeof GetCapacityResponseSchema>>;
}

/** What the Controller handlers depend on. */
export interface ControllerDeps extends ControllerMountsDeps {
  /** Clock for archive names (default: the system clock). */
  readonly now?: () => Date;
  /** fscrypt calls for encrypted classes (default: ioctls in worker threads). */
  readonly fscrypt?: Fscrypt;
  /** The file systems to work on (default: mounted by the controller itself). */
  readonly fileSystems?: FileSystems;
  /** Where the controller's metrics go (klustre_csi_trash_*). */
  readonly registry?: Registry;
}

const CAPABILITIES = [
  ControllerCap.CREATE_DELETE_VOLUME,
  ControllerCap.EXPAND_VOLUME,
  ControllerCap.MODIFY_VOLUME,
];

/** Builds the Controller handlers, the start-up step and the exit step. */
export function controllerHandlers(
  deps: ControllerDeps,
): Omit<ControllerHandlers, "getCapacity"> & {
  prepare(): Promise<void>;
  release(): Promise<string[]>;
  /** The background purger of the trash. */
  readonly purger: TrashPurger;
} {
  const { config, runner, logger } = deps;
  const timeoutMs = config.commandTimeoutMs;
  const mounts = deps.fileSystems ?? new ControllerMounts(deps);
  const steps = { config, mounts, runner, logger };
  const purger = new TrashPurger({
    mounts,
    runner,
    logger,
    timeoutMs,
    knownFile: `${config.stateDir}/controller-trash.json`,
    registry: deps.registry,
  });
  const provisioning: ProvisionDeps = {
    ...steps,
    allocation: new KeyedMutex(),
    preflight: new Preflight(steps),
    creating: new Set(),
    fscrypt: deps.fscrypt ?? new WorkerFscrypt({ timeoutMs }),
  };
  const retiring: RetireDeps = {
    ...steps,
    trashed: (source) => purger.wake(source),
    now: deps.now ?? (() => new Date()),
  };

  return {
    purger,

    async prepare() {
      await mounts.prepare();
      await purger.resume();
    },

    async release() {
      await purger.stop();
      return await mounts.release();
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
        // A VolumeAttributesClass's parameters (mutable_parameters) win over the StorageClass's.
        parseMutableParameters(r.mutableParameters);
        parsed = parseParameters({ ...r.parameters, ...r.mutableParameters });
        relative = expandTemplate(parsed.params.subdirTemplate, parsed.metadata, r.name);
      } catch (error) {
        throw invalidArgument(context, (error as Error).message);
      }
      const { params } = parsed;
      const capacityBytes = capacityOf(r, r.name);
      const location = { source: params.source, base: params.base, relative };
      const keys = params.encryption
        ? classKeys(r.name, params.encryption.kms, r.secrets, timeoutMs)
        : undefined;
      purger.touch(params.source);
      const record = await runOperation(
        { action: "create", volumeId: r.name },
        volumeDir(location),
        () => provision(provisioning, { name: r.name, params, location, capacityBytes, keys }),
      ).finally(() => keys?.forget?.());
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
            ...encryptionContext(record),
            ...(params.lustreParams.length > 0
              ? { lustreParams: params.lustreParams.join(",") }
              : {}),
            ...params.pcc,
            ...(params.striping.compression ? { compression: params.striping.compression } : {}),
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
        () =>
          retire(retiring, {
            volumeId,
            location,
            destroyKey: (kms) => destroyVolumeKey(volumeId, kms, r.secrets, timeoutMs),
          }),
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
          // Under the file system's lock: a delete by another controller cannot interleave.
          mounts.onFileSystem(location.source, (mountPath, records, fs) =>
            fs.lock.run(async () => {
              const record = await readyRecord(records, dir, volumeId, "expand");
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
            })),
      );
      return { capacityBytes: BigInt(grown), nodeExpansionRequired: false };
    },

    async controllerModifyVolume(r) {
      const volumeId = requireVolumeId("modify", r.volumeId);
      let changes;
      try {
        changes = parseMutableParameters(r.mutableParameters);
      } catch (error) {
        throw invalidArgument({ action: "modify", volumeId }, (error as Error).message);
      }
      const location = locate("modify", volumeId);
      await runOperation(
        { action: "modify", volumeId },
        volumeDir(location),
        () => modifyVolume({ mounts, runner, logger, timeoutMs }, volumeId, location, changes),
      );
      return {};
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
          mounts.onFileSystem(location.source, async (_mountPath, records) => {
            await readyRecord(records, dir, volumeId, "validate");
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

/** Requires at least one capability, each a mount capability this driver serves. */
function requireCapabilities(action: string, id: string, capabilities: VolumeCapability[]) {
  if (capabilities.length === 0) {
    throw invalidArgument({ action, volumeId: id }, '"volumeCapabilities" is required');
  }
  for (const capability of capabilities) {
    requireMountCapability({ action, volumeId: id }, capability);
  }
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
