/**
 * The controller's access to Lustre file systems: one mount per file system
 * in its own folder of the state directory, apart from a node plugin's
 * mounts, with the settings' default client options for every call.
 */
import type { Config } from "../config.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import type { Mounter } from "../mount/mounter.ts";
import type { FsGate } from "../mount/fs_gate.ts";
import type { LustreSource } from "../lustre/source.ts";
import { splitMountOptions } from "../lustre/mount_options.ts";
import { CONTROLLER_MOUNTS_FOLDER, SharedMounts } from "../node/shared_mounts.ts";
import type { RecordStore } from "./records.ts";
import { type VolumeFs, volumeFs } from "./volume_fs.ts";
import { RootSquashGuard } from "./root_squash.ts";

/** The file systems the controller works on (ControllerMounts, or a stand-in in benches). */
export interface FileSystems {
  prepare(): Promise<void>;
  release(): Promise<string[]>;
  onFileSystem<T>(
    source: LustreSource,
    work: (mountPath: string, records: RecordStore, fs: VolumeFs) => Promise<T>,
  ): Promise<T>;
}

/** What ControllerMounts needs. */
export interface ControllerMountsDeps {
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
  /** Runs the health checks of the controller's mounts. */
  readonly gate: FsGate;
  /** The Lustre client version, for unique_fsid. */
  readonly clientVersion: () => Promise<string>;
}

/** Mounts file systems on the controller for the calls that work on them. */
export class ControllerMounts implements FileSystems {
  readonly #deps: ControllerMountsDeps;
  readonly #shared: SharedMounts;
  /**
   * The controller's own mount options: the settings' defaults, for every
   * call alike, so create, delete and expand share one mount per file system
   * (a StorageClass's mountOptions are for the nodes' mounts).
   */
  readonly #clientOptions: string[];
  /** Names a squashed root instead of letting every step fail with EPERM. */
  readonly #rootSquash: RootSquashGuard;

  constructor(deps: ControllerMountsDeps) {
    const { config } = deps;
    this.#deps = deps;
    this.#rootSquash = new RootSquashGuard({
      runner: deps.runner,
      logger: deps.logger,
      timeoutMs: config.commandTimeoutMs,
    });
    this.#shared = new SharedMounts({
      runner: deps.runner,
      mounter: deps.mounter,
      logger: deps.logger,
      stateDir: config.stateDir,
      // Apart from a node plugin's mounts, should both share one state dir on a host.
      mountsFolder: CONTROLLER_MOUNTS_FOLDER,
      kubeletDir: config.kubeletDir,
      mountTimeoutMs: config.mountTimeoutMs,
      unmountTimeoutMs: config.unmountTimeoutMs,
      checkTimeoutMs: config.commandTimeoutMs,
      gate: deps.gate,
      clientVersion: deps.clientVersion,
    });
    this.#clientOptions = [...splitMountOptions(config.defaultMountOptions).client].sort();
  }

  /** Creates the state directory and makes it a private mount, before the first call. */
  async prepare(): Promise<void> {
    await Deno.mkdir(this.#deps.config.stateDir, { recursive: true });
    await this.#deps.mounter.makePrivate(this.#deps.config.stateDir);
  }

  /** Unmounts the file systems mounted for calls, at exit, so none is left behind. */
  async release(): Promise<string[]> {
    return await this.#shared.releaseUnused();
  }

  /**
   * Runs `work` with the file system mounted on the controller.
   * @throws LustreMountError, CommandTimeoutError, MountError
   */
  onFileSystem<T>(
    source: LustreSource,
    work: (mountPath: string, records: RecordStore, fs: VolumeFs) => Promise<T>,
  ): Promise<T> {
    const timeoutMs = this.#deps.config.commandTimeoutMs;
    return this.#shared.withMount(
      { source, clientOptions: this.#clientOptions },
      (mount) => {
        const fs = volumeFs(mount.path, timeoutMs);
        return this.#rootSquash.run(
          source.fsName,
          mount.path,
          () => work(mount.path, fs.records, fs),
        );
      },
    );
  }
}
