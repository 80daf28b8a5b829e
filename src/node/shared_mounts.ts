/**
 * One Lustre mount per (file system, client options) per node, kept under
 * the state directory. Staged volumes are bind mounts of directories inside
 * it. Whether a shared mount is still used is read from the mount table:
 * any mount below the kubelet directory on the same device keeps it.
 */
import { createHash } from "node:crypto";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import type { Mounter } from "../mount/mounter.ts";
import { mountAt, type MountInfo } from "../mount/mountinfo.ts";
import { type FsGate, gateKey } from "../mount/fs_gate.ts";
import { removeDirectory, unmountCascade } from "../mount/unmount_cascade.ts";
import { KeyedMutex } from "../keyed_mutex.ts";
import { SingleFlight } from "../single_flight.ts";
import { LustreMountError } from "../lustre/lustre_mount_error.ts";
import { compareVersions } from "../lustre/client_check.ts";
import type { LustreSource } from "../lustre/source.ts";
import type { MountKeeper } from "../mount/mount_namespace.ts";
import { ensureKeptMount, keptPath, releaseKeptMount, REPLACEMENT_SUFFIX } from "./kept_mounts.ts";
import type { ClientTuning } from "./client_tuning.ts";
import { type ClientParam, formatClientParam } from "../lustre/client_params.ts";

/** Folder of the node plugin's shared mounts below the state dir. */
export const NODE_MOUNTS_FOLDER = "mounts";
/** Folder of the controller's mounts below the state dir, apart from a node plugin's. */
export const CONTROLLER_MOUNTS_FOLDER = "controller-mounts";

/** First client version whose mounts accept unique_fsid. */
export const UNIQUE_FSID_VERSION = "2.15.8";

/** What SharedMounts needs. */
export interface SharedMountsDeps {
  readonly runner: CommandRunner;
  readonly mounter: Mounter;
  readonly logger: Logger;
  readonly stateDir: string;
  /** Folder below the state dir for this process's mounts ("mounts" on nodes). */
  readonly mountsFolder?: string;
  readonly kubeletDir: string;
  readonly mountTimeoutMs: number;
  readonly unmountTimeoutMs: number;
  readonly checkTimeoutMs: number;
  /** Runs the health check of a shared mount (bounded, per-mount circuit breaker). */
  readonly gate: FsGate;
  /**
   * The Lustre client version, kept once known; throws (never answers "")
   * while it is not known, so the mount key cannot flip.
   */
  readonly clientVersion: () => Promise<string>;
  /** Throws when the Lustre client is not usable; checked before mount.lustre runs. */
  readonly clientReady?: () => Promise<void>;
  /**
   * Where the Lustre mounts live when they must survive restarts; each is
   * then attached into this namespace at its usual path as a bind.
   */
  readonly keeper?: MountKeeper;
  /** Applies client tunables (`lustreParams`) to a shared mount's instance. */
  readonly tuning?: ClientTuning;
  /** Runs after each ensure of a shared mount (PCC datasets are set again on a new instance). */
  readonly afterMount?: (path: string, info: MountInfo) => Promise<void>;
}

/** Which shared mount a volume uses. */
export interface MountChoice {
  readonly source: LustreSource;
  readonly clientOptions: readonly string[];
  /** Set for a volume that needs a Lustre mount of its own (unique_fsid). */
  readonly dedicatedTo?: string;
  /** Client tunables of the instance; different tunables get a client instance of their own. */
  readonly lustreParams?: readonly ClientParam[];
}

/** A shared mount ready for binding from. */
export interface SharedMount {
  readonly path: string;
  readonly info: MountInfo;
}

/** Keeps the node's shared Lustre mounts. */
export class SharedMounts {
  readonly #deps: SharedMountsDeps;
  readonly #mutex = new KeyedMutex();
  /** Calls using each shared mount right now; a used mount is never released. */
  readonly #users = new Map<string, number>();
  readonly #flights = new SingleFlight<MountInfo>();

  constructor(deps: SharedMountsDeps) {
    this.#deps = deps;
  }

  /** Directory holding the shared mounts. */
  get mountsDir(): string {
    return `${this.#deps.stateDir}/${this.#deps.mountsFolder ?? NODE_MOUNTS_FOLDER}`;
  }

  /** True when `path` is inside the driver's own state directory. */
  isInternal(path: string): boolean {
    return path === this.#deps.stateDir || path.startsWith(`${this.#deps.stateDir}/`);
  }

  /**
   * Does this node's client accept unique_fsid?
   * @throws what clientVersion throws while the version is not known
   */
  async supportsUniqueFsid(): Promise<boolean> {
    const version = await this.#deps.clientVersion();
    return version !== "" && compareVersions(version, UNIQUE_FSID_VERSION) >= 0;
  }

  /**
   * Ensures the shared mount for `choice` is mounted and healthy, then runs
   * `use` while no release can take it away. Uses of one mount run
   * concurrently; only mounting and releasing are serialised.
   * @throws LustreMountError, LustreClientNotReadyError, CommandTimeoutError, MountError, FsNotAnsweringError (hung mount)
   */
  async withMount<T>(choice: MountChoice, use: (mount: SharedMount) => Promise<T>): Promise<T> {
    const { path, options } = await this.#locate(choice);
    // Count the user first: a pending user pins the mount against release.
    this.#users.set(path, (this.#users.get(path) ?? 0) + 1);
    try {
      // Concurrent callers share one mount attempt (one timeout, not one each).
      const info = await this.#flights.run(
        path,
        () =>
          this.#mutex.run(path, async () => {
            const info = await this.#ensure(choice.source.fsSource, options, path);
            await this.#deps.tuning?.apply({ path, info }, {
              fsName: choice.source.fsName,
              params: params(choice),
            });
            await this.#deps.afterMount?.(path, info);
            return info;
          }),
      );
      return await use({ path, info });
    } finally {
      const left = (this.#users.get(path) ?? 1) - 1;
      if (left > 0) this.#users.set(path, left);
      else this.#users.delete(path);
    }
  }

  /** The shared mount `choice` uses, if it is mounted now. */
  async find(choice: MountChoice): Promise<MountInfo | undefined> {
    const { path } = await this.#locate(choice);
    const keeper = this.#deps.keeper;
    return mountAt(await this.#deps.mounter.mountInfo(), path) ??
      (keeper && mountAt(await keeper.mountInfo(), keptPath(keeper, path)));
  }

  async #locate(choice: MountChoice): Promise<{ path: string; options: string[] }> {
    const options = [...choice.clientOptions];
    if (
      !options.includes("unique_fsid") && (choice.dedicatedTo || await this.supportsUniqueFsid())
    ) {
      options.push("unique_fsid");
    }
    options.sort();
    const tunables = params(choice).map(formatClientParam).join(",");
    const key = [
      choice.source.fsSource,
      options.join(","),
      choice.dedicatedTo ?? "",
      // Appended only when set, so mounts without tunables keep their paths.
      ...(tunables === "" ? [] : [tunables]),
    ].join("|");
    const hash = createHash("sha256").update(key).digest("hex").slice(0, 16);
    return { path: `${this.mountsDir}/${choice.source.fsName}-${hash}`, options };
  }

  /**
   * Unmounts every shared mount that no mount below the kubelet directory
   * uses any more. Returns the paths released.
   */
  async releaseUnused(): Promise<string[]> {
    const keeper = this.#deps.keeper;
    if (keeper) return await this.#releaseKept(keeper);
    const released: string[] = [];
    const mounts = await this.#deps.mounter.mountInfo();
    for (const shared of mounts.filter((m) => this.#isSharedMount(m))) {
      await this.#mutex.run(shared.mountPoint, async () => {
        const now = await this.#deps.mounter.mountInfo();
        const current = mountAt(now, shared.mountPoint);
        if (!current || this.#inUse(current.mountPoint) || this.#isUsed(current, now)) return;
        await unmountCascade(this.#deps.mounter, current.mountPoint, this.#deps.unmountTimeoutMs);
        await removeDirectory(current.mountPoint);
        await this.#deps.tuning?.forget(current.mountPoint);
        this.#deps.logger.info("Released shared Lustre mount {path}", {
          path: current.mountPoint,
          source: current.source,
        });
        released.push(current.mountPoint);
      });
    }
    return released;
  }

  /**
   * With a keeper: a shared mount is used while the host's mount table (or
   * this namespace's) shows a directory of it; then it is detached here and
   * unmounted in the keeper.
   */
  async #releaseKept(keeper: MountKeeper): Promise<string[]> {
    const released: string[] = [];
    const paths = new Set([
      ...(await keeper.mountInfo()).filter((m) => m.mountPoint.startsWith(`${keeper.mountsDir}/`))
        .map((m) => `${this.mountsDir}/${m.mountPoint.slice(keeper.mountsDir.length + 1)}`),
      ...(await this.#deps.mounter.mountInfo()).filter((m) => this.#isSharedMount(m))
        .map((m) => m.mountPoint),
    ]);
    for (const path of paths) {
      await this.#mutex.run(path, async () => {
        if (this.#inUse(path)) return;
        const kept = keptPath(keeper, path);
        const local = await this.#deps.mounter.mountInfo();
        const shared = mountAt(await keeper.mountInfo(), kept) ?? mountAt(local, path);
        if (!shared || this.#isUsed(shared, [...await keeper.hostMountInfo(), ...local])) return;
        await releaseKeptMount(this.#deps, keeper, path);
        await this.#deps.tuning?.forget(path);
        this.#deps.logger.info("Released shared Lustre mount {path}", {
          path,
          source: shared.source,
        });
        released.push(path);
      });
    }
    return released;
  }

  /** A call uses the shared mount at `path` (or mounts the replacement at `path` of one). */
  #inUse(path: string): boolean {
    return this.#users.has(path) ||
      path.endsWith(REPLACEMENT_SUFFIX) &&
        this.#users.has(path.slice(0, -REPLACEMENT_SUFFIX.length));
  }

  #isSharedMount(mount: MountInfo): boolean {
    return mount.mountPoint.startsWith(`${this.mountsDir}/`);
  }

  /**
   * A shared mount is used while a mount elsewhere shows a directory of it:
   * the same superblock (device, and for Lustre the same super options) and
   * a root inside its root. Mounts of the whole file system count only below
   * the kubelet directory, so an admin's own mount of the file system on the
   * host never pins the driver's.
   */
  #isUsed(shared: MountInfo, mounts: readonly MountInfo[]): boolean {
    const kubelet = `${this.#deps.kubeletDir}/`;
    const prefix = shared.root === "/" ? "/" : `${shared.root}/`;
    return mounts.some((m) =>
      m.id !== shared.id && !this.isInternal(m.mountPoint) && sameSuperblock(m, shared) &&
      (m.root.startsWith(prefix) && m.root !== shared.root ||
        m.root === shared.root && m.mountPoint.startsWith(kubelet))
    );
  }

  async #ensure(fsSource: string, options: readonly string[], path: string): Promise<MountInfo> {
    const keeper = this.#deps.keeper;
    if (keeper) return await ensureKeptMount(this.#deps, keeper, { fsSource, options, path });
    const existing = mountAt(await this.#deps.mounter.mountInfo(), path);
    if (existing) {
      // A hung mount is not stale: FsNotAnsweringError goes to the caller, no remount.
      const health = await this.#deps.gate.check(gateKey(existing), path);
      if (health.healthy) return existing;
      this.#deps.logger.warn(
        "Shared Lustre mount {path} is stale, mounting its replacement: {reason}",
        { path, reason: health.reason },
      );
      // Mount-first: the stale mount stays until its replacement is mounted beside it.
      const next = `${path}${REPLACEMENT_SUFFIX}`;
      const { mounter, unmountTimeoutMs } = this.#deps;
      await unmountCascade(mounter, next, unmountTimeoutMs); // a crashed attempt's
      await this.#mountLustre(fsSource, options, next);
      await unmountCascade(mounter, path, unmountTimeoutMs);
      await mounter.bind(next, path, []);
      await unmountCascade(mounter, next, unmountTimeoutMs);
      await removeDirectory(next).catch(() => undefined);
      const replaced = mountAt(await mounter.mountInfo(), path);
      if (!replaced) throw new Error(`"${next}" was bound but "${path}" is not a mount`);
      return replaced;
    }
    return await this.#mountLustre(fsSource, options, path);
  }

  /** Runs mount.lustre at `path` (created); the directory is removed again when it fails. */
  async #mountLustre(
    fsSource: string,
    options: readonly string[],
    path: string,
  ): Promise<MountInfo> {
    await this.#deps.clientReady?.();
    await Deno.mkdir(path, { recursive: true });
    const args = [fsSource, path, ...(options.length > 0 ? ["-o", options.join(",")] : [])];
    const result = await this.#deps.runner.run("mount.lustre", args, {
      timeoutMs: this.#deps.mountTimeoutMs,
      check: false,
    });
    if (result.code !== 0) {
      await removeDirectory(path).catch(() => undefined);
      throw new LustreMountError(fsSource, result.code, result.stderr || result.stdout);
    }
    const mounted = mountAt(await this.#deps.mounter.mountInfo(), path);
    if (!mounted) {
      throw new Error(`mount.lustre "${fsSource}" succeeded but "${path}" is not a mount`);
    }
    this.#deps.logger.info("Mounted Lustre {source} at {path}", {
      source: fsSource,
      path,
      options: options.join(","),
      durationMs: result.durationMs,
    });
    return mounted;
  }
}

function params(choice: MountChoice): readonly ClientParam[] {
  return choice.lustreParams ?? [];
}

/** Same device, and for real Lustre mounts the same client options. */
function sameSuperblock(a: MountInfo, b: MountInfo): boolean {
  if (a.major !== b.major || a.minor !== b.minor) return false;
  if (a.fsType !== "lustre" || b.fsType !== "lustre") return true;
  return [...a.superOptions].sort().join(",") === [...b.superOptions].sort().join(",");
}
