/**
 * CSI Node service. Stage mounts Lustre once per file system and client
 * options (see node/shared_mounts.ts) and binds the volume's directory on
 * the staging path; publish binds the staging path on the pod's target.
 * Everything is read back from the kernel's mount table.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type NodeGetCapabilitiesResponseSchema,
  type NodeGetInfoResponseSchema,
  type NodeGetVolumeStatsRequest,
  type NodeGetVolumeStatsResponseSchema,
  type NodePublishVolumeRequest,
  type NodePublishVolumeResponseSchema,
  NodeServiceCapability_RPC_Type as NodeCap,
  type NodeStageVolumeRequest,
  type NodeStageVolumeResponseSchema,
  type NodeUnpublishVolumeRequest,
  type NodeUnpublishVolumeResponseSchema,
  type NodeUnstageVolumeRequest,
  type NodeUnstageVolumeResponseSchema,
  VolumeUsage_Unit,
} from "./csi/gen/csi_pb.ts";
import { Code, CsiError } from "./csi/csi_error.ts";
import { runOperation } from "./csi/operation_error.ts";
import {
  type CallContext,
  invalidArgument,
  type MountRequest,
  requireMountCapability,
  requirePath,
  requireVolumeId,
} from "./csi/requests.ts";
import type { Config } from "./config.ts";
import type { CommandRunner } from "./exec/command_runner.ts";
import type { Logger } from "./log.ts";
import type { Mounter, MountFlag } from "./mount/mounter.ts";
import { isReadOnly, mountAt, type MountInfo, sameDirectory } from "./mount/mountinfo.ts";
import { checkPathHealth, readUsage, withTimeout } from "./mount/path_health.ts";
import { removeDirectory, unmountCascade } from "./mount/unmount_cascade.ts";
import { resolveVolume, UnknownVolumeError, type VolumeSpec } from "./node/volume_spec.ts";
import { type SharedMount, SharedMounts } from "./node/shared_mounts.ts";
import type { ClientStatus } from "./lustre/client_check.ts";
import type { MetricsHook } from "./metrics.ts";
import { type ProjectQuota, readProjectId, readProjectQuota } from "./lustre/project_quota.ts";
import { parseLustreSource } from "./lustre/source.ts";

/** Topology key every node of the driver reports. */
export const TOPOLOGY_KEY = "lustre.csi.klustrefs.io/lustre-client";

type Init<S> = S extends import("@bufbuild/protobuf").DescMessage ? MessageInitShape<S> : never;

/** The Node handlers, one per RPC. */
export interface NodeHandlers {
  nodeStageVolume(r: NodeStageVolumeRequest): Promise<Init<typeof NodeStageVolumeResponseSchema>>;
  nodeUnstageVolume(
    r: NodeUnstageVolumeRequest,
  ): Promise<Init<typeof NodeUnstageVolumeResponseSchema>>;
  nodePublishVolume(
    r: NodePublishVolumeRequest,
  ): Promise<Init<typeof NodePublishVolumeResponseSchema>>;
  nodeUnpublishVolume(
    r: NodeUnpublishVolumeRequest,
  ): Promise<Init<typeof NodeUnpublishVolumeResponseSchema>>;
  nodeGetVolumeStats(
    r: NodeGetVolumeStatsRequest,
  ): Promise<Init<typeof NodeGetVolumeStatsResponseSchema>>;
  nodeGetCapabilities(): Promise<Init<typeof NodeGetCapabilitiesResponseSchema>>;
  nodeGetInfo(): Promise<Init<typeof NodeGetInfoResponseSchema>>;
}

/** What the Node handlers depend on. */
export interface NodeDeps {
  readonly config: Pick<
    Config,
    | "nodeId"
    | "kubeletDir"
    | "stateDir"
    | "defaultMountOptions"
    | "mountTimeoutMs"
    | "unmountTimeoutMs"
    | "commandTimeoutMs"
  >;
  readonly runner: CommandRunner;
  readonly mounter: Mounter;
  readonly logger: Logger;
  /** The cached Lustre client check (its version decides unique_fsid). */
  readonly client: { get(): Promise<ClientStatus> };
  /** Told each volume's condition (klustre_csi_volumes_abnormal). */
  readonly metrics?: Pick<MetricsHook, "volumeChecked" | "volumeForgotten">;
}

/** Builds the Node handlers. */
export function nodeHandlers(deps: NodeDeps): NodeHandlers & { prepare(): Promise<void> } {
  const { config, mounter, logger } = deps;
  const checkMs = config.commandTimeoutMs;
  const shared = new SharedMounts({
    runner: deps.runner,
    mounter,
    logger,
    stateDir: config.stateDir,
    kubeletDir: config.kubeletDir,
    mountTimeoutMs: config.mountTimeoutMs,
    unmountTimeoutMs: config.unmountTimeoutMs,
    checkTimeoutMs: checkMs,
    clientVersion: async () => (await deps.client.get()).version,
  });
  const scratchDir = `${config.stateDir}/.scratch`;

  function resolve(
    context: CallContext,
    r: { volumeContext: Record<string, string> },
    access: MountRequest,
  ) {
    try {
      return resolveVolume({
        volumeId: context.volumeId,
        volumeContext: r.volumeContext,
        mountFlags: access.mountFlags,
        defaultMountOptions: config.defaultMountOptions,
      });
    } catch (error) {
      if (error instanceof UnknownVolumeError) {
        throw new CsiError(
          Code.NOT_FOUND,
          `Cannot ${context.action} volume "${context.volumeId}": ${error.message}`,
        );
      }
      throw invalidArgument(context, (error as Error).message);
    }
  }

  /** Binds the volume's directory from its shared mount onto the staging path. */
  async function stage(volumeId: string, staging: string, spec: VolumeSpec, flags: MountFlag[]) {
    const choice = { source: spec.source, clientOptions: spec.clientOptions };
    const bindFrom = (checkCollision: boolean) => async (mount: SharedMount) => {
      const root = joinRoot(mount.info.root, spec.dir);
      if (checkCollision) {
        const other = (await mounter.mountInfo()).find((m) =>
          m.major === mount.info.major && m.minor === mount.info.minor && m.root === root &&
          m.mountPoint !== staging && !shared.isInternal(m.mountPoint)
        );
        if (other) return other;
      }
      const directory = await requireVolumeDirectory(mount.path, spec.dir, checkMs, spec, volumeId);
      await mounter.bind(directory, staging, flags);
      return undefined;
    };
    try {
      const collision = await shared.withMount(choice, bindFrom(true));
      if (!collision) return;
      if (!(await shared.supportsUniqueFsid())) {
        throw new CsiError(
          Code.FAILED_PRECONDITION,
          `Cannot stage volume "${volumeId}" at "${staging}": directory "${spec.dir}" of ` +
            `"${spec.source.fsSource}" is already mounted at "${collision.mountPoint}"; kubelet ` +
            "could not unstage either volume (they share root and device). Use one PV per " +
            "directory, or a Lustre client >= 2.15.8 (unique_fsid)",
        );
      }
      logger.info(
        "Directory already staged elsewhere; giving volume {volumeId} its own Lustre mount",
        {
          volumeId,
          other: collision.mountPoint,
        },
      );
      await shared.withMount({ ...choice, dedicatedTo: volumeId }, bindFrom(false));
    } catch (error) {
      await shared.releaseUnused().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Does an existing staging mount show this volume's directory? Exact when
   * the shared mount is up (device and root); after a restart, by the file
   * system name and the directory.
   */
  async function isStagedAs(existing: MountInfo, spec: VolumeSpec): Promise<boolean> {
    const mount = await shared.find({ source: spec.source, clientOptions: spec.clientOptions });
    if (mount && mount.major === existing.major && mount.minor === existing.minor) {
      return existing.root === joinRoot(mount.root, spec.dir);
    }
    if (!isLustreSource(existing.source)) return false;
    return parseLustreSource(existing.source).fsName === spec.source.fsName &&
      rootMatches(existing.root, spec.dir);
  }

  async function unmountStale(path: string, mount: MountInfo | undefined, what: string) {
    if (!mount) return false;
    const health = await checkPathHealth(path, checkMs);
    if (health.healthy) return false;
    logger.warn("{what} {path} is stale, repairing it: {reason}", {
      what,
      path,
      reason: health.reason,
    });
    await unmountCascade(mounter, path, config.unmountTimeoutMs);
    return true;
  }

  /** Project IDs by volume path: they do not change while a volume is mounted. */
  const projectIds = new Map<string, { id: number | undefined; at: number }>();
  const PROJECT_ID_TTL_MS = 10 * 60 * 1000;

  /** The project quota of a volume directory, when it has one (dynamic volumes). */
  async function projectQuota(path: string): Promise<ProjectQuota | undefined> {
    try {
      const cached = projectIds.get(path);
      const fresh = cached !== undefined && Date.now() - cached.at < PROJECT_ID_TTL_MS;
      const id = fresh ? cached.id : await readProjectId(deps.runner, path, checkMs);
      if (!fresh) projectIds.set(path, { id, at: Date.now() });
      return id === undefined ? undefined : await readProjectQuota(deps.runner, path, id, checkMs);
    } catch (error) {
      logger.debug("No project quota for {path}: {reason}", {
        path,
        reason: (error as Error).message,
      });
      return undefined;
    }
  }

  return {
    async prepare() {
      await Deno.mkdir(config.stateDir, { recursive: true });
      await mounter.makePrivate(config.stateDir);
      await Deno.mkdir(scratchDir, { recursive: true });
      for (
        const leftover of (await mounter.mountInfo()).filter((m) =>
          m.mountPoint.startsWith(`${scratchDir}/`)
        )
      ) {
        await mounter.unmount(leftover.mountPoint, "lazy", config.unmountTimeoutMs);
      }
      for await (const entry of Deno.readDir(scratchDir)) {
        await removeDirectory(`${scratchDir}/${entry.name}`).catch(() => undefined);
      }
      const released = await shared.releaseUnused();
      logger.info("Node ready: {released} unused shared mounts released", {
        released: released.length,
      });
    },

    async nodeStageVolume(r) {
      const volumeId = requireVolumeId("stage", r.volumeId);
      const context = { action: "stage", volumeId };
      const staging = requirePath(context, "stagingTargetPath", r.stagingTargetPath);
      const access = requireMountCapability(context, r.volumeCapability);
      const spec = resolve(context, r, access);
      const readOnly = spec.readOnly || access.readOnlyMode;
      return await runOperation(context, staging, async () => {
        const existing = mountAt(await mounter.mountInfo(), staging);
        if (existing && !(await unmountStale(staging, existing, "Staging path"))) {
          if (await isStagedAs(existing, spec) && isReadOnly(existing) === readOnly) return {};
          throw new CsiError(
            Code.ALREADY_EXISTS,
            `Cannot stage volume "${volumeId}" at "${staging}": it is already staged there with ` +
              `directory "${existing.root}" (${isReadOnly(existing) ? "ro" : "rw"}), not ` +
              `"${spec.dir}" (${readOnly ? "ro" : "rw"})`,
          );
        }
        await Deno.mkdir(staging, { recursive: true });
        await stage(volumeId, staging, spec, [
          ...spec.bindFlags,
          ...(readOnly ? ["ro" as const] : []),
        ]);
        return {};
      });
    },

    async nodeUnstageVolume(r) {
      const volumeId = requireVolumeId("unstage", r.volumeId);
      const context = { action: "unstage", volumeId };
      const staging = requirePath(context, "stagingTargetPath", r.stagingTargetPath);
      projectIds.delete(staging);
      return await runOperation(context, staging, async () => {
        await unmountCascade(mounter, staging, config.unmountTimeoutMs);
        await shared.releaseUnused();
        deps.metrics?.volumeForgotten(volumeId);
        return {};
      });
    },

    async nodePublishVolume(r) {
      const volumeId = requireVolumeId("publish", r.volumeId);
      const context = { action: "publish", volumeId };
      const target = requirePath(context, "targetPath", r.targetPath);
      const access = requireMountCapability(context, r.volumeCapability);
      if (r.stagingTargetPath === "") {
        throw new CsiError(
          Code.FAILED_PRECONDITION,
          `Cannot publish volume "${volumeId}" at "${target}": "stagingTargetPath" is required ` +
            "(the driver has STAGE_UNSTAGE_VOLUME)",
        );
      }
      const staging = requirePath(context, "stagingTargetPath", r.stagingTargetPath);
      const spec = resolve(context, r, access);
      const stagedReadOnly = spec.readOnly || access.readOnlyMode;
      const readOnly = r.readonly || stagedReadOnly;
      return await runOperation(context, target, async () => {
        let mounts = await mounter.mountInfo();
        if (!mountAt(mounts, staging)) {
          throw new CsiError(
            Code.FAILED_PRECONDITION,
            `Cannot publish volume "${volumeId}" at "${target}": it is not staged at "${staging}"`,
          );
        }
        if (await unmountStale(staging, mountAt(mounts, staging), "Staging path")) {
          await stage(volumeId, staging, spec, [
            ...spec.bindFlags,
            ...(stagedReadOnly ? ["ro" as const] : []),
          ]);
          mounts = await mounter.mountInfo();
        }
        const staged = mountAt(mounts, staging)!;
        const existing = mountAt(mounts, target);
        if (existing && !(await unmountStale(target, existing, "Target path"))) {
          if (sameDirectory(existing, staged) && isReadOnly(existing) === readOnly) return {};
          throw new CsiError(
            Code.ALREADY_EXISTS,
            `Cannot publish volume "${volumeId}" at "${target}": it is already published there ` +
              `${
                sameDirectory(existing, staged)
                  ? `${isReadOnly(existing) ? "read-only" : "read-write"}`
                  : `from "${existing.source}" "${existing.root}"`
              }` +
              `, incompatible with this request (${readOnly ? "read-only" : "read-write"})`,
          );
        }
        if (access.singleTarget) {
          const other = mounts.find((m) =>
            sameDirectory(m, staged) && m.mountPoint !== staging && m.mountPoint !== target &&
            !shared.isInternal(m.mountPoint)
          );
          if (other) {
            throw new CsiError(
              Code.FAILED_PRECONDITION,
              `Cannot publish volume "${volumeId}" at "${target}": its single-node access mode ` +
                `allows one target and it is already published at "${other.mountPoint}"`,
            );
          }
        }
        const created = await ensureTargetDirectory(context, target);
        try {
          await mounter.bind(staging, target, [
            ...spec.bindFlags,
            ...(readOnly ? ["ro" as const] : []),
          ]);
        } catch (error) {
          if (created) await removeDirectory(target).catch(() => undefined);
          throw error;
        }
        return {};
      });
    },

    async nodeUnpublishVolume(r) {
      const volumeId = requireVolumeId("unpublish", r.volumeId);
      const context = { action: "unpublish", volumeId };
      const target = requirePath(context, "targetPath", r.targetPath);
      projectIds.delete(target);
      return await runOperation(context, target, async () => {
        await unmountCascade(mounter, target, config.unmountTimeoutMs);
        const info = await Deno.lstat(target).catch(() => undefined);
        if (info?.isDirectory) await removeDirectory(target);
        return {};
      });
    },

    async nodeGetVolumeStats(r) {
      const volumeId = requireVolumeId("get stats of", r.volumeId);
      const context = { action: "get stats of", volumeId };
      if (r.volumePath === "") throw invalidArgument(context, '"volumePath" is required');
      // Any other path that is not a mounted volume (even a relative one) names no volume.
      const path = r.volumePath.length > 1 ? r.volumePath.replace(/\/+$/, "") : r.volumePath;
      return await runOperation(context, path, async () => {
        const mounts = await mounter.mountInfo();
        const mount = mountAt(mounts, path);
        if (!mount || !isLustreSource(mount.source)) {
          throw new CsiError(
            Code.NOT_FOUND,
            `Cannot get stats of volume "${volumeId}": "${path}" is not a staged or published volume`,
          );
        }
        if (r.stagingTargetPath !== "") {
          const staged = mountAt(mounts, r.stagingTargetPath);
          if (staged && !sameDirectory(staged, mount)) {
            throw new CsiError(
              Code.NOT_FOUND,
              `Cannot get stats of volume "${volumeId}": "${path}" does not show the volume ` +
                `staged at "${r.stagingTargetPath}"`,
            );
          }
        }
        const health = await checkPathHealth(path, checkMs);
        if (!health.healthy) {
          deps.metrics?.volumeChecked(volumeId, true);
          return abnormal(`Lustre mount is not answering: ${health.reason}`);
        }
        try {
          const u = await readUsage(path, checkMs);
          const quota = await projectQuota(path);
          const bytes = limited(
            u.totalBytes,
            u.usedBytes,
            u.availableBytes,
            quota?.limitBytes,
            quota?.usedBytes,
          );
          const inodes = limited(
            u.totalInodes,
            u.usedInodes,
            u.freeInodes,
            quota?.limitInodes,
            quota?.usedInodes,
          );
          deps.metrics?.volumeChecked(volumeId, false);
          return {
            usage: [
              { unit: VolumeUsage_Unit.BYTES, ...bytes },
              { unit: VolumeUsage_Unit.INODES, ...inodes },
            ],
            volumeCondition: { abnormal: false, message: "Volume is mounted and answering" },
          };
        } catch (error) {
          deps.metrics?.volumeChecked(volumeId, true);
          return abnormal(`Lustre mount is not answering: ${(error as Error).message}`);
        }
      });
    },

    nodeGetCapabilities() {
      const types = [
        NodeCap.STAGE_UNSTAGE_VOLUME,
        NodeCap.GET_VOLUME_STATS,
        NodeCap.VOLUME_CONDITION,
        NodeCap.SINGLE_NODE_MULTI_WRITER,
      ];
      return Promise.resolve({
        capabilities: types.map((type) => ({ type: { case: "rpc" as const, value: { type } } })),
      });
    },

    nodeGetInfo() {
      return Promise.resolve({
        nodeId: config.nodeId,
        maxVolumesPerNode: 0n,
        accessibleTopology: { segments: { [TOPOLOGY_KEY]: "true" } },
      });
    },
  };
}

/**
 * An abnormal condition. kubelet drops a stats answer without usage, so the
 * figures are zeros rather than absent.
 */
function abnormal(message: string) {
  const zero = { total: 0n, used: 0n, available: 0n };
  return {
    usage: [{ unit: VolumeUsage_Unit.BYTES, ...zero }, { unit: VolumeUsage_Unit.INODES, ...zero }],
    volumeCondition: { abnormal: true, message },
  };
}

/**
 * Usage figures, limited by a project quota when one is set: the quota is
 * the size, and what is available never exceeds what the file system has.
 */
function limited(total: number, used: number, available: number, limit = 0, quotaUsed = 0) {
  if (limit <= 0) {
    return { total: BigInt(total), used: BigInt(used), available: BigInt(available) };
  }
  const free = Math.max(0, Math.min(limit - quotaUsed, available));
  return { total: BigInt(limit), used: BigInt(quotaUsed), available: BigInt(free) };
}

/** True when a mount's source reads as a Lustre client source. */
function isLustreSource(source: string): boolean {
  try {
    parseLustreSource(source);
    return true;
  } catch {
    return false;
  }
}

/** The mountinfo root a directory shows when bound from a mount whose root is `base`. */
function joinRoot(base: string, dir: string): string {
  if (dir === "/") return base;
  return base === "/" ? dir : `${base}${dir}`;
}

/**
 * A staging root matches a directory when it ends with it (dir starts with
 * "/", so the match is at a segment boundary). The shared mount's own root
 * ("/" on Lustre) prefixes it.
 */
function rootMatches(root: string, dir: string): boolean {
  return dir === "/" || root.endsWith(dir);
}

/**
 * The real path of the volume's directory inside the shared mount; it must
 * exist, be a directory and stay inside the file system.
 */
async function requireVolumeDirectory(
  mountPath: string,
  dir: string,
  timeoutMs: number,
  spec: VolumeSpec,
  volumeId: string,
): Promise<string> {
  const wanted = dir === "/" ? mountPath : `${mountPath}${dir}`;
  let real: string;
  try {
    real = await withTimeout(wanted, timeoutMs, () => Deno.realPath(wanted));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CsiError(
        Code.NOT_FOUND,
        `Cannot stage volume "${volumeId}": directory "${dir}" does not exist in "${spec.source.fsSource}"`,
        { cause: error },
      );
    }
    throw error;
  }
  if (real !== mountPath && !real.startsWith(`${mountPath}/`)) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot stage volume "${volumeId}": directory "${dir}" leads outside "${spec.source.fsSource}" through a symlink`,
    );
  }
  const info = await withTimeout(real, timeoutMs, () => Deno.stat(real));
  if (!info.isDirectory) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot stage volume "${volumeId}": "${dir}" in "${spec.source.fsSource}" is not a directory`,
    );
  }
  return real;
}

/** Creates the target directory if needed; returns whether it was created. */
async function ensureTargetDirectory(context: CallContext, target: string): Promise<boolean> {
  const info = await Deno.lstat(target).catch(() => undefined);
  if (info?.isDirectory) return false;
  if (info) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot ${context.action} volume "${context.volumeId}": "targetPath" "${target}" exists and is not a directory`,
    );
  }
  try {
    await Deno.mkdir(target);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot ${context.action} volume "${context.volumeId}": the parent of "targetPath" "${target}" does not exist`,
        { cause: error },
      );
    }
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return false;
  }
  return true;
}
