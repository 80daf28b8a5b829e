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
import { findHostCollision } from "./host_mounts.ts";
import type { VolumeSpec } from "./volume_spec.ts";
import { joinRoot, rootMatches } from "./paths.ts";
import { bindVolumeDirectory } from "./safe_bind.ts";

/** What Stager needs. */
export interface StagerDeps {
  readonly mounter: Mounter;
  readonly logger: Logger;
  readonly shared: SharedMounts;
  /** The driver's state directory, holding the shared mounts. */
  readonly stateDir: string;
  /** Kubelet's root: staging paths lie below it, and mounts below it are kubelet's and the driver's own. */
  readonly kubeletDir: string;
  /** Bound of each health check and file system call. */
  readonly checkTimeoutMs: number;
  /** Runs the file system calls inside Lustre mounts. */
  readonly gate: FsGate;
  readonly unmountTimeoutMs: number;
  /** The host's mount table (empty when it is not read). */
  readonly hostMounts?: () => Promise<readonly MountInfo[]>;
}

/** A mount that shows the directory being staged, with the same device. */
interface Collision {
  readonly mountPoint: string;
  /** Found in the host's mount table, not the driver's own. */
  readonly onHost: boolean;
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
       * Re-staging over a stale (or vanished) staging mount: the new bind
       * replaces the stale one only once it is ready, so a failure leaves the
       * stale mount in place. The volume was checked for collisions when first
       * staged, and its own (stale) targets still show its directory, so the
       * check is skipped.
       */
      readonly repair?: boolean;
      /** Runs on the shared mount before the bind (an encrypted volume's key is added). */
      readonly unlock?: (mount: SharedMount) => Promise<void>;
    },
  ): Promise<void> {
    const { mounter, logger, shared } = this.#deps;
    const { volumeId } = options;
    const flags: MountFlag[] = [...spec.bindFlags, ...(options.readOnly ? ["ro" as const] : [])];
    const choice = {
      source: spec.source,
      clientOptions: spec.clientOptions,
      lustreParams: spec.lustreParams,
    };
    const bindFrom = (checkCollision: boolean) => async (mount: SharedMount) => {
      const root = joinRoot(mount.info.root, spec.dir);
      if (checkCollision) {
        const other = (await mounter.mountInfo()).find((m) =>
          m.major === mount.info.major && m.minor === mount.info.minor && m.root === root &&
          m.mountPoint !== staging && !shared.isInternal(m.mountPoint)
        );
        if (other) return { mountPoint: other.mountPoint, onHost: false } satisfies Collision;
        const onHost = await this.#hostCollision(mount.info, root, spec, staging);
        if (onHost) return { mountPoint: onHost.mountPoint, onHost: true } satisfies Collision;
      }
      await options.unlock?.(mount);
      await bindVolumeDirectory(this.#deps, {
        volumeId,
        mount,
        spec,
        staging,
        flags,
        replace: options.repair,
      });
      return undefined;
    };
    try {
      const collision = await shared.withMount(choice, bindFrom(!options.repair));
      if (!collision) return;
      if (!(await shared.supportsUniqueFsid())) {
        if (collision.onHost) {
          throw new CsiError(
            Code.FAILED_PRECONDITION,
            `Cannot stage volume "${volumeId}" at "${staging}": the host has its own mount of ` +
              `"${spec.source.fsSource}" at "${collision.mountPoint}" showing directory ` +
              `"${spec.dir}"; kubelet could not unstage the volume (they share root and ` +
              "device). Use a subdirectory, or a Lustre client >= 2.15.8 (unique_fsid)",
          );
        }
        throw new CsiError(
          Code.FAILED_PRECONDITION,
          `Cannot stage volume "${volumeId}" at "${staging}": directory "${spec.dir}" of ` +
            `"${spec.source.fsSource}" is already mounted at "${collision.mountPoint}"; kubelet ` +
            "could not unstage either volume (they share root and device). Use one PV per " +
            "directory, or a Lustre client >= 2.15.8 (unique_fsid)",
        );
      }
      logger.info(
        collision.onHost
          ? "The host has its own mount of the directory; giving volume {volumeId} its own Lustre mount"
          : "Directory already staged elsewhere; giving volume {volumeId} its own Lustre mount",
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

  /** A host mount of the same file system showing `root` on the shared mount's device. */
  async #hostCollision(
    shared: MountInfo,
    root: string,
    spec: VolumeSpec,
    staging: string,
  ): Promise<MountInfo | undefined> {
    if (!this.#deps.hostMounts) return undefined;
    const kubelet = this.#deps.kubeletDir;
    return findHostCollision(await this.#deps.hostMounts(), {
      shared,
      root,
      fsName: spec.source.fsName,
      skip: (path) =>
        path === staging || this.#deps.shared.isInternal(path) ||
        path === kubelet || path.startsWith(`${kubelet}/`),
    });
  }

  /**
   * Does an existing staging mount show this volume's directory? Exact when
   * the shared mount is up (device and root); after a restart, by the file
   * system name and the directory.
   */
  async isStagedAs(existing: MountInfo, spec: VolumeSpec): Promise<boolean> {
    const choice = {
      source: spec.source,
      clientOptions: spec.clientOptions,
      lustreParams: spec.lustreParams,
    };
    const mount = await this.#deps.shared.find(choice);
    if (mount && mount.major === existing.major && mount.minor === existing.minor) {
      return existing.root === joinRoot(mount.root, spec.dir);
    }
    if (!isLustreSource(existing.source)) return false;
    return parseLustreSource(existing.source).fsName === spec.source.fsName &&
      rootMatches(existing.root, spec.dir);
  }

  /**
   * Is `mount` at `path` stale (failing, not hung)? Logs the repair to come.
   * @throws FsNotAnsweringError when the mount hangs (it is left alone)
   */
  async isStale(
    path: string,
    mount: MountInfo,
    options: { readonly what: string },
  ): Promise<boolean> {
    const health = await this.#deps.gate.check(gateKey(mount), path);
    if (health.healthy) return false;
    this.#deps.logger.warn("{what} {path} is stale, replacing it mount-first: {reason}", {
      what: options.what,
      path,
      reason: health.reason,
    });
    return true;
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
