/**
 * The keeper mount namespace: where a node plugin keeps its shared Lustre
 * mounts so they survive container restarts. Made once from the host's
 * namespace and pinned by a bind of its nsfs file at `<keeperDir>/ns` on
 * the host; a restarted driver joins it again. All calls go to one worker
 * thread inside it (src/mount/_namespace_worker.ts); a call that overruns
 * its timeout abandons that thread and the next call starts a fresh one.
 */
import { errnoName } from "./errno_names.ts";
import { CommandNotFoundError, CommandTimeoutError } from "../exec/command_errors.ts";
import type { CommandResult } from "../exec/command_runner.ts";
import { type Mounter, MountError, MountTimeoutError, type UnmountMode } from "./mounter.ts";
import { type MountInfo, parseMountInfo } from "./mountinfo.ts";
import type { KeeperReply, KeeperRequest, KeeperSetup } from "./_namespace_worker.ts";

/** Folder of the keeper (its pin `ns` and its `mounts`) below the state dir. */
export const KEEPER_FOLDER = "keeper";

/**
 * The keeper sees the host's file system at /, so a pathEnv entry under
 * /host (the host's directories inside the image) is used without /host.
 */
export function hostPathEnv(pathEnv: string): string {
  const dirs = pathEnv.split(":").filter((d) => d !== "")
    .map((d) => d === "/host" ? "/" : d.startsWith("/host/") ? d.slice("/host".length) : d);
  return [...new Set(dirs)].join(":");
}

/** Where the shared mounts live, as SharedMounts sees it. */
export interface MountKeeper {
  /** Directory in the keeper namespace holding the shared mounts. */
  readonly mountsDir: string;
  /** The keeper namespace's mount table. */
  mountInfo(): Promise<MountInfo[]>;
  /** The host namespace's mount table (pods' binds show here). */
  hostMountInfo(): Promise<MountInfo[]>;
  /** Runs a host tool inside the keeper namespace. */
  run(command: string, args: readonly string[], timeoutMs: number): Promise<CommandResult>;
  mkdir(path: string): Promise<void>;
  /** rmdir in the keeper; a missing directory is fine. */
  removeDirectory(path: string): Promise<void>;
  /** Binds keeper directory `from` at `to` in the driver's own namespace. */
  attach(from: string, to: string, timeoutMs: number): Promise<void>;
  /** Moves the keeper's mount at `from` to `to`, both in the keeper (MS_MOVE). */
  move(from: string, to: string, timeoutMs: number): Promise<void>;
  /** The keeper's mount operations, for the unmount cascade. */
  readonly mounter: Mounter;
}

/** Settings of the keeper. */
export interface KeeperOptions extends KeeperSetup {
  /** PATH searched inside the keeper (the host's own directories). */
  readonly pathEnv: string;
  /** Limit for the calls that are not commands. */
  readonly timeoutMs: number;
}

const UNMOUNT_BITS: Record<UnmountMode, number> = { plain: 0, force: 1, lazy: 2 };

/** The keeper namespace, reached through one worker thread. */
export class KeeperNamespace implements MountKeeper {
  readonly #options: KeeperOptions;
  #worker: Worker | undefined;
  #ready: Promise<boolean> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, (reply: KeeperReply) => void>();

  constructor(options: KeeperOptions) {
    this.#options = options;
  }

  get mountsDir(): string {
    return `${this.#options.keeperDir}/mounts`;
  }

  /** Joins (or makes and pins) the keeper; true when it was made now. */
  async open(): Promise<boolean> {
    this.#worker ??= this.#spawn();
    this.#ready ??= this.#send({ op: "init", setup: this.#options }, this.#options.timeoutMs)
      .then((v) => v as boolean)
      .catch((error) => {
        this.close();
        throw error;
      });
    return await this.#ready;
  }

  async mountInfo(): Promise<MountInfo[]> {
    return parseMountInfo(await this.#call({ op: "mountinfo", where: "keeper" }) as string);
  }

  async hostMountInfo(): Promise<MountInfo[]> {
    return parseMountInfo(await this.#call({ op: "mountinfo", where: "host" }) as string);
  }

  async run(command: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
    const request = {
      op: "run" as const,
      command,
      args: [...args],
      pathEnv: this.#options.pathEnv,
      timeoutMs,
    };
    try {
      return await this.#call(request, timeoutMs + 5000) as CommandResult;
    } catch (error) {
      const kind = (error as { kind?: string }).kind;
      if (kind === "timeout") throw new CommandTimeoutError(command, timeoutMs);
      if (kind === "not-found") throw new CommandNotFoundError(command, this.#options.pathEnv);
      throw error;
    }
  }

  async mkdir(path: string): Promise<void> {
    await this.#call({ op: "mkdir", path });
  }

  async removeDirectory(path: string): Promise<void> {
    await this.#call({ op: "rmdir", path });
  }

  async attach(from: string, to: string, timeoutMs: number): Promise<void> {
    try {
      await this.#call({ op: "attach", from, to }, timeoutMs);
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      if (errno === undefined) throw error;
      throw new MountError("attach", to, errnoName(errno));
    }
  }

  async move(from: string, to: string, timeoutMs: number): Promise<void> {
    try {
      await this.#call({ op: "move", from, to }, timeoutMs);
    } catch (error) {
      const errno = (error as { errno?: number }).errno;
      if (errno === undefined) throw error;
      throw new MountError("move in keeper", to, errnoName(errno));
    }
  }

  readonly mounter: Mounter = {
    mountInfo: () => this.mountInfo(),
    unmount: async (target, mode, timeoutMs) => {
      const errno = await this.#call(
        { op: "umount", target, flags: UNMOUNT_BITS[mode] },
        timeoutMs,
      ) as number;
      if (errno === 0 || errno === 22 || errno === 2) return;
      throw new MountError(`unmount (${mode}) in keeper`, target, errnoName(errno));
    },
    bind: () => Promise.reject(new Error("bind is not done in the keeper")),
    bindBeneath: () => Promise.reject(new Error("bindBeneath is not done in the keeper")),
    replaceBeneath: () => Promise.reject(new Error("replaceBeneath is not done in the keeper")),
    makePrivate: () => Promise.reject(new Error("makePrivate is not done in the keeper")),
    close: () => this.close(),
  };

  /** Ends the worker thread (the keeper namespace stays pinned). */
  close(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#ready = undefined;
    for (const settle of this.#pending.values()) {
      settle({ id: 0, ok: false, error: "keeper worker closed" });
    }
    this.#pending.clear();
  }

  async #call(request: KeeperRequest, timeoutMs = this.#options.timeoutMs): Promise<unknown> {
    await this.open();
    return await this.#send(request, timeoutMs);
  }

  #spawn(): Worker {
    const worker = new Worker(new URL("./_namespace_worker.ts", import.meta.url), {
      type: "module",
    });
    worker.onmessage = (event: MessageEvent<KeeperReply>) => {
      const settle = this.#pending.get(event.data.id);
      this.#pending.delete(event.data.id);
      settle?.(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.close();
    };
    return worker;
  }

  #send(request: KeeperRequest, timeoutMs: number): Promise<unknown> {
    const worker = this.#worker;
    // Another call's timeout may have ended the worker since open() answered.
    if (!worker) return Promise.reject(new Error(`keeper ${request.op}: worker restarted, retry`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The thread may be stuck in the kernel: abandon it.
        this.#pending.delete(id);
        if (this.#worker === worker) this.close();
        reject(new MountTimeoutError(`keeper ${request.op}`, describe(request), timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.ok) resolve(reply.value);
        else {
          reject(Object.assign(new Error(`keeper ${request.op}: ${reply.error}`), {
            errno: reply.errno,
            kind: reply.kind,
          }));
        }
      });
      worker.postMessage({ ...request, id });
    });
  }
}

function describe(request: KeeperRequest): string {
  switch (request.op) {
    case "run":
      return request.command;
    case "attach":
      return request.to;
    case "umount":
      return request.target;
    case "mkdir":
    case "rmdir":
      return request.path;
    default:
      return request.op;
  }
}
