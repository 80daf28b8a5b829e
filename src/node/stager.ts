/**
 * Staging mechanics: ready the state directory at start, bind a volume's
 * directory from its shared mount onto the staging path (falling back to a
 * dedicated unique_fsid mount when the directory is already staged
 * elsewhere), recognise an existing staging mount, and repair stale mounts.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { Logger } from "../log.ts";
import type { Mounter, MountFlag } from "../mount/mounter.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { type FsGate, gateKey } from "../mount/fs_gate.ts";
import { BIND_STEPS, removeDirectory, unmountCascade } from "../mount/unmount_cascade.ts";
import { isLustreSource, parseLustreSource } from "../lustre/source.ts";
import type { SharedMount, SharedMounts } from "./shared_mounts.ts";
import type { VolumeSpec } from "./volume_spec.ts";
import { joinRoot, requireVolumeDirectory, rootMatches } from "./paths.ts";

/** What Stager needs. */
export interface StagerDeps {
  readonly mounter: Mounter;
  readonly logger: Logger;
  readonly shared: SharedMounts;
  /** The driver's state directory, holding the shared mounts. */
  readonly stateDir: string;
  /** Bound of each health check and file system call. */
  readonly checkTimeoutMs: number;
  /** Runs the file system calls inside Lustre mounts. */
  readonly gate: FsGate;
  readonly unmountTimeoutMs: number;
}

/** Stages volumes from the node's shared mounts. */
export class Stager {
  readonly #deps: StagerDeps;

  constructor(deps: StagerDeps) {
    this.#deps = deps;
  }

  /**
   * Readies the node after a (re)start: makes the state directory private,
   * clears leftovers of its scratch folder and releases unused shared mounts.
   */
  async prepare(): Promise<void> {
    const { mounter, logger, shared, stateDir, unmountTimeoutMs } = this.#deps;
    const scratchDir = `${stateDir}/.scratch`;
    await Deno.mkdir(stateDir, { recursive: true });
    await mounter.makePrivate(stateDir);
    await Deno.mkdir(scratchDir, { recursive: true });
    for (
      const leftover of (await mounter.mountInfo()).filter((m) =>
        m.mountPoint.startsWith(`${scratchDir}/`)
      )
    ) {
      await mounter.unmount(leftover.mountPoint, "lazy", unmountTimeoutMs);
    }
    for await (const entry of Deno.readDir(scratchDir)) {
      await removeDirectory(`${scratchDir}/${entry.name}`).catch(() => undefined);
    }
    const released = await shared.releaseUnused();
    logger.info("Node ready: {released} unused shared mounts released", {
      released: released.length,
    });
  }

  /**
   * Binds the volume's directory from its shared mount onto the staging path.
   * @throws CsiError FAILED_PRECONDITION (directory staged elsewhere, no unique_fsid), NOT_FOUND, INVALID_ARGUMENT
   */
  async stage(
    staging: string,
    spec: VolumeSpec,
    options: {
      readonly volumeId: string;
      readonly readOnly: boolean;
      /**
       * Re-staging after a stale staging mount was removed: the volume was
       * checked for collisions when first staged, and its own (stale) targets
       * still show its directory, so the check is skipped.
       */
      readonly repair?: boolean;
    },
  ): Promise<void> {
    const { mounter, logger, shared } = this.#deps;
    const { volumeId } = options;
    const flags: MountFlag[] = [...spec.bindFlags, ...(options.readOnly ? ["ro" as const] : [])];
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
      const directory = await requireVolumeDirectory(mount.path, spec, {
        volumeId,
        timeoutMs: this.#deps.checkTimeoutMs,
        gate: this.#deps.gate,
        key: gateKey(mount.info),
      });
      await mounter.bind(directory, staging, flags);
      return undefined;
    };
    try {
      const collision = await shared.withMount(choice, bindFrom(!options.repair));
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
  async isStagedAs(existing: MountInfo, spec: VolumeSpec): Promise<boolean> {
    const choice = { source: spec.source, clientOptions: spec.clientOptions };
    const mount = await this.#deps.shared.find(choice);
    if (mount && mount.major === existing.major && mount.minor === existing.minor) {
      return existing.root === joinRoot(mount.root, spec.dir);
    }
    if (!isLustreSource(existing.source)) return false;
    return parseLustreSource(existing.source).fsName === spec.source.fsName &&
      rootMatches(existing.root, spec.dir);
  }

  /**
   * Unmounts `mount` at `path` when the path fails (stale); returns
   * whether it did (false when nothing is mounted or the mount is healthy).
   * @throws FsNotAnsweringError when the mount hangs (it is left alone)
   */
  async unmountStale(
    path: string,
    mount: MountInfo | undefined,
    options: { readonly what: string },
  ): Promise<boolean> {
    if (!mount) return false;
    const health = await this.#deps.gate.check(gateKey(mount), path);
    if (health.healthy) return false;
    this.#deps.logger.warn("{what} {path} is stale, repairing it: {reason}", {
      what: options.what,
      path,
      reason: health.reason,
    });
    await unmountCascade(this.#deps.mounter, path, this.#deps.unmountTimeoutMs, BIND_STEPS);
    return true;
  }
}
