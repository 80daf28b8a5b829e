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
} from "./csi/gen/csi_pb.ts";
import { Code, CsiError } from "./csi/csi_error.ts";
import { runOperation } from "./csi/operation_error.ts";
import {
  type CallContext,
  invalidArgument,
  requireMountCapability,
  requireVolumeId,
} from "./csi/requests.ts";
import type { Config } from "./config.ts";
import type { CommandRunner } from "./exec/command_runner.ts";
import type { Logger } from "./log.ts";
import type { Mounter } from "./mount/mounter.ts";
import { type FsGate, gateKey } from "./mount/fs_gate.ts";
import { isReadOnly, mountAt, type MountInfo, sameDirectory } from "./mount/mountinfo.ts";
import { BIND_STEPS, removeDirectory, unmountCascade } from "./mount/unmount_cascade.ts";
import { type SharedMount, SharedMounts } from "./node/shared_mounts.ts";
import { ClientTuning } from "./node/client_tuning.ts";
import { PccAttach } from "./node/pcc_attach.ts";
import { compressionRefusal } from "./lustre/compression.ts";
import type { PccMetricsHook } from "./node/pcc_purge.ts";
import type { VolumeSpec } from "./node/volume_spec.ts";
import type { MountKeeper } from "./mount/mount_namespace.ts";
import { Stager } from "./node/stager.ts";
import { type Fscrypt, WorkerFscrypt } from "./crypto/fscrypt.ts";
import { lockIfUnused, unlockVolume } from "./node/volume_unlock.ts";
import { UnlockedVolumes } from "./node/unlocked_volumes.ts";
import { readHostMounts } from "./node/host_mounts.ts";
import { VolumeStats } from "./node/volume_stats.ts";
import { isLustreSource } from "./lustre/source.ts";
import { ensureTargetDirectory } from "./node/paths.ts";
import { requireKubeletPath } from "./node/kubelet_paths.ts";
import { bindStagedVolume } from "./node/safe_bind.ts";
import { publishFlags } from "./node/publish_flags.ts";
import { resolveSpec } from "./node/resolve_spec.ts";
import { kubeletStaged } from "./node/kubelet_record.ts";
import { KeyedMutex } from "./keyed_mutex.ts";
import { SingleFlight } from "./single_flight.ts";
import { RecentMountInfo } from "./node/recent_mount_info.ts";
import type { LustreClient } from "./lustre/client_state.ts";
import type { MetricsHook } from "./metrics.ts";

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
  readonly config:
    & Pick<
      Config,
      | "nodeId"
      | "kubeletDir"
      | "stateDir"
      | "defaultMountOptions"
      | "mountTimeoutMs"
      | "unmountTimeoutMs"
      | "commandTimeoutMs"
      | "allowSuidDevVolumes"
    >
    & Partial<Pick<Config, "hostMountInfo">>;
  readonly runner: CommandRunner;
  readonly mounter: Mounter;
  readonly logger: Logger;
  /** Runs every file system call on a path inside a Lustre mount. */
  readonly gate: FsGate;
  /** The Lustre client: checked before mounting, its version decides unique_fsid. */
  readonly client: Pick<LustreClient, "version" | "requireReady">;
  /** Told each volume's condition (klustre_csi_volumes_abnormal). */
  readonly metrics?: Pick<MetricsHook, "volumeChecked" | "volumeForgotten">;
  /** Where shared mounts live so that they survive restarts (hostMountNamespace). */
  readonly keeper?: MountKeeper;
  /** fscrypt calls for encrypted volumes (default: ioctls in worker threads). */
  readonly fscrypt?: Fscrypt;
  /** Told the PCC cache usage and purges (hotNodes). */
  readonly pccMetrics?: PccMetricsHook;
}

/** Builds the Node handlers. */
export function nodeHandlers(deps: NodeDeps): NodeHandlers & { prepare(): Promise<void> } {
  const { config, mounter, logger } = deps;
  const checkMs = config.commandTimeoutMs;
  const pcc = new PccAttach({
    runner: deps.runner,
    mounter,
    logger,
    stateDir: config.stateDir,
    timeoutMs: checkMs,
    keeper: deps.keeper,
    clientVersion: () => deps.client.version(),
    metrics: deps.pccMetrics,
  });
  const shared = new SharedMounts({
    runner: deps.runner,
    mounter,
    logger,
    stateDir: config.stateDir,
    kubeletDir: config.kubeletDir,
    mountTimeoutMs: config.mountTimeoutMs,
    unmountTimeoutMs: config.unmountTimeoutMs,
    checkTimeoutMs: checkMs,
    clientVersion: () => deps.client.version(),
    clientReady: () => deps.client.requireReady(),
    keeper: deps.keeper,
    gate: deps.gate,
    afterMount: (path, info) => pcc.mounted(path, info.id),
    tuning: new ClientTuning({
      runner: deps.runner,
      logger,
      stateDir: config.stateDir,
      timeoutMs: checkMs,
      keeper: deps.keeper,
    }),
  });
  const stager = new Stager({
    mounter,
    logger,
    shared,
    stateDir: config.stateDir,
    kubeletDir: config.kubeletDir,
    checkTimeoutMs: checkMs,
    gate: deps.gate,
    unmountTimeoutMs: config.unmountTimeoutMs,
    hostMounts: () =>
      readHostMounts({ path: config.hostMountInfo ?? "", timeoutMs: checkMs, logger }),
  });
  // Stats calls share a recent read of mountinfo (costly with hundreds of volumes).
  const statsMountInfo = new RecentMountInfo(() => mounter.mountInfo());
  const stats = new VolumeStats({
    runner: deps.runner,
    logger,
    gate: deps.gate,
    timeoutMs: checkMs,
  });
  const defaultMountOptions = config.defaultMountOptions;
  /** Adds a hotNodes volume to its shared mount's PCC dataset (again, on a retried stage). */
  const attachPcc = async (volumeId: string, staging: string, spec: VolumeSpec) => {
    const cache = spec.pcc;
    if (!cache) return;
    const choice = {
      source: spec.source,
      clientOptions: spec.clientOptions,
      lustreParams: spec.lustreParams,
    };
    // A volume given a Lustre mount of its own (unique_fsid) is cached on that instance.
    const staged = mountAt(await mounter.mountInfo(), staging);
    const common = await shared.find(choice);
    const own = staged && common &&
      (staged.major !== common.major || staged.minor !== common.minor);
    await shared.withMount(
      own ? { ...choice, dedicatedTo: volumeId } : choice,
      (mount) => pcc.attach(volumeId, { mount: mount.path, staging, spec: cache }),
    );
  };
  const bindDeps = {
    mounter,
    kubeletDir: config.kubeletDir,
    unmountTimeoutMs: config.unmountTimeoutMs,
  };
  const encryption = {
    fscrypt: deps.fscrypt ?? new WorkerFscrypt({ timeoutMs: checkMs }),
    logger,
    kmsTimeoutMs: config.commandTimeoutMs,
  };
  const unlocked = new UnlockedVolumes(config.stateDir);
  /**
   * Stages a volume (mount and bind), unlocking an encrypted one with its key before the bind and
   * attaching a hotNodes one to its cache: the same for NodeStage and for a publish that stages.
   */
  const stageVolume = async (
    staging: string,
    spec: VolumeSpec,
    options: {
      volumeId: string;
      readOnly: boolean;
      repair: boolean;
      secrets: Readonly<Record<string, string>>;
      secretsFrom?: "node-stage-secret" | "node-publish-secret";
    },
  ) => {
    const { volumeId, readOnly, repair, secrets, secretsFrom } = options;
    const volumeEncryption = spec.encryption;
    let unlockedAt = "";
    const unlock = volumeEncryption &&
      (async (mount: SharedMount) => {
        await unlockVolume(encryption, {
          volumeId,
          mountPath: mount.path,
          dir: spec.dir,
          encryption: volumeEncryption,
          secrets,
          secretsFrom,
        });
        unlockedAt = mount.path;
      });
    await stager.stage(staging, spec, { volumeId, readOnly, repair, unlock });
    if (volumeEncryption && unlockedAt) {
      await unlocked.remember({
        staging,
        volumeId,
        keyIdentifier: volumeEncryption.keyIdentifier,
        mountPath: unlockedAt,
      });
    }
    await attachPcc(volumeId, staging, spec);
  };
  /** Staging and its repairs, one at a time per staging path. */
  const stagingMutex = new KeyedMutex();
  /** Publishes on one staging path at about the same time share one check of it. */
  const stagingChecks = new SingleFlight<MountInfo[] | undefined>();
  /**
   * Before a publish binds the staging path: it must show the volume, answering; a path kubelet
   * staged that shows nothing or is stale is staged again (with the publish's own secrets,
   * node-publish-secret). Publishes that arrive together share one check; the caller that ran it
   * (its read began after it asked) gets the mounts it read, the others undefined (read afresh).
   */
  const checkStagedForPublish = async (
    { volumeId, staging, spec, stagedReadOnly, secrets }: {
      volumeId: string;
      staging: string;
      spec: VolumeSpec;
      stagedReadOnly: boolean;
      secrets: Record<string, string>;
    },
  ): Promise<MountInfo[] | undefined> => {
    let checkedHere = false;
    const read = await stagingChecks.run(staging, () => {
      checkedHere = true;
      return stagingMutex.run(staging, async () => {
        const mounts = await mounter.mountInfo();
        const current = mountAt(mounts, staging);
        if (current && !(await stager.isStale(staging, current, STAGING_PATH))) return mounts;
        if (!current) {
          // Kubelet stages once: a staging path it still records as staged but that
          // shows nothing (unmounted behind the driver's back) is staged again here.
          if (!(await kubeletStaged(staging, volumeId))) {
            throw new CsiError(
              Code.FAILED_PRECONDITION,
              // No target named: publishes that joined this check get the same error.
              `Cannot publish volume "${volumeId}": it is not staged at "${staging}"`,
            );
          }
          logger.warn(
            "Staging path {path} of volume {volumeId} shows nothing though kubelet staged " +
              "it; staging it again",
            { path: staging, volumeId },
          );
        }
        // Publish carries its own secrets (node-publish-secret): an encrypted class names the
        // same Secret there so that a publish can unlock what it stages (docs/encryption.md).
        await stageVolume(staging, spec, {
          volumeId,
          readOnly: stagedReadOnly,
          repair: true,
          secrets,
          secretsFrom: "node-publish-secret",
        });
        return undefined;
      });
    });
    return checkedHere ? read : undefined;
  };
  const kubeletPath = (context: CallContext, field: string, path: string) =>
    requireKubeletPath(context, field, path, config.kubeletDir);

  const handlers: NodeHandlers & { prepare(): Promise<void> } = {
    async prepare() {
      await stager.prepare();
      await pcc.resume();
    },

    async nodeStageVolume(r) {
      const volumeId = requireVolumeId("stage", r.volumeId);
      const context = { action: "stage", volumeId };
      const staging = kubeletPath(context, "stagingTargetPath", r.stagingTargetPath);
      const access = requireMountCapability(context, r.volumeCapability);
      const spec = resolveSpec(context, r, { access, defaultMountOptions });
      publishFlags(context, spec, config.allowSuidDevVolumes); // refused now rather than at publish
      if (spec.compression !== undefined) {
        const version = await deps.client.version().catch(() => "");
        const refusal = compressionRefusal(spec.compression, version);
        if (refusal) {
          throw new CsiError(
            Code.FAILED_PRECONDITION,
            `Cannot stage volume "${volumeId}": ${refusal}`,
          );
        }
      }
      const readOnly = spec.readOnly || access.readOnlyMode;
      return await runOperation(context, staging, () =>
        stagingMutex.run(staging, async () => {
          const existing = mountAt(await mounter.mountInfo(), staging);
          const repair = existing !== undefined &&
            await stager.isStale(staging, existing, STAGING_PATH);
          if (existing && !repair) {
            if (await stager.isStagedAs(existing, spec) && isReadOnly(existing) === readOnly) {
              await attachPcc(volumeId, staging, spec);
              return {};
            }
            throw new CsiError(
              Code.ALREADY_EXISTS,
              `Cannot stage volume "${volumeId}" at "${staging}": it is already staged there with ` +
                `directory "${existing.root}" (${isReadOnly(existing) ? "ro" : "rw"}), not ` +
                `"${spec.dir}" (${readOnly ? "ro" : "rw"})`,
            );
          }
          // A stale mount stays on the staging path until its replacement is ready.
          if (!repair) await Deno.mkdir(staging, { recursive: true });
          await stageVolume(staging, spec, { volumeId, readOnly, repair, secrets: r.secrets });
          return {};
        }));
    },

    async nodeUnstageVolume(r) {
      const volumeId = requireVolumeId("unstage", r.volumeId);
      const context = { action: "unstage", volumeId };
      const staging = kubeletPath(context, "stagingTargetPath", r.stagingTargetPath);
      stats.forget(staging);
      return await runOperation(context, staging, async () => {
        const unlockedHere = await unlocked.recall(staging);
        await unmountCascade(mounter, staging, config.unmountTimeoutMs, BIND_STEPS);
        if (unlockedHere) {
          const mounts = await mounter.mountInfo();
          if (mountAt(mounts, unlockedHere.mountPath)) {
            const stillStaged = (await unlocked.all()).filter((v) =>
              v.staging !== staging && v.mountPath === unlockedHere.mountPath &&
              mountAt(mounts, v.staging)
            ).map((v) => v.keyIdentifier);
            // The volume is unstaged either way: a key that cannot be removed is reported.
            await lockIfUnused(encryption, {
              volumeId,
              identifier: unlockedHere.keyIdentifier,
              stillStaged,
              onFileSystem: unlockedHere.mountPath,
            }).catch((error: Error) =>
              logger.warn("The key of volume {volumeId} stays on the node: {error}", {
                volumeId,
                keyIdentifier: unlockedHere.keyIdentifier,
                error: error.message,
              })
            );
          }
          await unlocked.forget(staging);
        }
        await pcc.detach(volumeId);
        await shared.releaseUnused();
        deps.metrics?.volumeForgotten(volumeId);
        return {};
      });
    },

    async nodePublishVolume(r) {
      const volumeId = requireVolumeId("publish", r.volumeId);
      const context = { action: "publish", volumeId };
      const target = kubeletPath(context, "targetPath", r.targetPath);
      const access = requireMountCapability(context, r.volumeCapability);
      if (r.stagingTargetPath === "") {
        throw new CsiError(
          Code.FAILED_PRECONDITION,
          `Cannot publish volume "${volumeId}" at "${target}": "stagingTargetPath" is required ` +
            "(the driver has STAGE_UNSTAGE_VOLUME)",
        );
      }
      const staging = kubeletPath(context, "stagingTargetPath", r.stagingTargetPath);
      const spec = resolveSpec(context, r, { access, defaultMountOptions });
      const flags = publishFlags(context, spec, config.allowSuidDevVolumes);
      const stagedReadOnly = spec.readOnly || access.readOnlyMode;
      const readOnly = r.readonly || stagedReadOnly;
      return await runOperation(context, target, async () => {
        const checked = await checkStagedForPublish({
          volumeId,
          staging,
          spec,
          stagedReadOnly,
          secrets: r.secrets,
        });
        const bindOnTarget = async (mounts: MountInfo[]) => {
          const staged = mountAt(mounts, staging);
          if (!staged) {
            throw new CsiError(
              Code.UNAVAILABLE,
              `Cannot publish volume "${volumeId}" at "${target}": "${staging}" was unmounted ` +
                "while the volume was being published; try again",
            );
          }
          const existing = mountAt(mounts, target);
          if (existing && !(await stager.unmountStale(target, existing, TARGET_PATH))) {
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
            await bindStagedVolume(bindDeps, {
              context,
              staging,
              staged,
              target,
              flags: [...flags, ...(readOnly ? ["ro" as const] : [])],
            });
          } catch (error) {
            if (created) await removeDirectory(target).catch(() => undefined);
            throw error;
          }
          return {};
        };
        // Single-node access: the check that no other target shows the volume and the bind
        // happen together (publishes of one staging path are otherwise concurrent).
        if (access.singleTarget) {
          return await stagingMutex.run(
            staging,
            async () => bindOnTarget(await mounter.mountInfo()),
          );
        }
        return await bindOnTarget(checked ?? await mounter.mountInfo());
      });
    },

    async nodeUnpublishVolume(r) {
      const volumeId = requireVolumeId("unpublish", r.volumeId);
      const context = { action: "unpublish", volumeId };
      const target = kubeletPath(context, "targetPath", r.targetPath);
      stats.forget(target);
      return await runOperation(context, target, async () => {
        await unmountCascade(mounter, target, config.unmountTimeoutMs, BIND_STEPS);
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
        const mounts = await statsMountInfo.get();
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
        const answer = await stats.measure(path, gateKey(mount));
        deps.metrics?.volumeChecked(volumeId, answer.volumeCondition.abnormal);
        return answer;
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
  // The calls that mount or unmount: stats calls after them read mountinfo afresh.
  const { nodeStageVolume, nodeUnstageVolume, nodePublishVolume, nodeUnpublishVolume } = handlers;
  return {
    ...handlers,
    nodeStageVolume: (r) => statsMountInfo.changing(() => nodeStageVolume(r)),
    nodeUnstageVolume: (r) => statsMountInfo.changing(() => nodeUnstageVolume(r)),
    nodePublishVolume: (r) => statsMountInfo.changing(() => nodePublishVolume(r)),
    nodeUnpublishVolume: (r) => statsMountInfo.changing(() => nodeUnpublishVolume(r)),
  };
}

/** How stale-mount repairs name the path in the log. */
const STAGING_PATH = { what: "Staging path" };
const TARGET_PATH = { what: "Target path" };
