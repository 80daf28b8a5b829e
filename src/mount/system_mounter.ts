/**
 * The real Mounter: mount(2) and umount2(2) through libc in worker threads,
 * each call bounded by a timeout. A worker stuck in the kernel is abandoned
 * and replaced, so the driver never wedges.
 */
import { WaitQueue } from "./wait_queue.ts";
import { IdleWorkers, nextWorkerAt, SPARE_AFTER_MS, WORKER_IDLE_MS } from "./idle_workers.ts";
import { errnoName } from "./errno_names.ts";
import { mountLocal } from "./local_mount.ts";
import { FreshRead } from "./fresh_read.ts";
import {
  beneathText,
  type Mounter,
  MountError,
  type MountFlag,
  MountTimeoutError,
  type PathBeneath,
  PathBeneathError,
  type UnmountMode,
} from "./mounter.ts";
import { type MountInfo, parseMountInfo } from "./mountinfo.ts";
import type { SyscallReply, SyscallRequest } from "./_syscall_worker.ts";

const MS_RDONLY = 1;
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MS_REMOUNT = 32;
const MS_NOATIME = 1024;
const MS_NODIRATIME = 2048;
const MS_BIND = 4096;
const MS_MOVE = 8192;
const MS_PRIVATE = 1 << 18;
const MS_RELATIME = 1 << 21;
const MS_STRICTATIME = 1 << 24;
const MNT_FORCE = 1;
const MNT_DETACH = 2;
const UMOUNT_NOFOLLOW = 8;

const FLAG_BITS: Record<MountFlag, number> = {
  ro: MS_RDONLY,
  nosuid: MS_NOSUID,
  nodev: MS_NODEV,
  noexec: MS_NOEXEC,
  noatime: MS_NOATIME,
  nodiratime: MS_NODIRATIME,
  relatime: MS_RELATIME,
  strictatime: MS_STRICTATIME,
};

const UNMOUNT_BITS: Record<UnmountMode, number> = {
  plain: 0,
  force: MNT_FORCE,
  lazy: MNT_DETACH,
};

/** Settings of the system mounter. */
export interface SystemMounterOptions {
  /** Limit for a mount(2) call. */
  readonly timeoutMs: number;
  /** A directory on a private mount where flagged binds are prepared before being moved. */
  readonly scratchDir?: string;
  readonly mountInfoPath?: string;
  /** Worker threads at most; further calls queue (their timeout runs while they wait). */
  readonly maxWorkers?: number;
  /**
   * A further thread is made only once every busy one has been on its call this long
   * (default SPARE_AFTER_MS): quick calls queue for the one thread, a stuck one gets a spare.
   */
  readonly spareAfterMs?: number;
  /** How long an idle worker is kept for the next calls (default WORKER_IDLE_MS). */
  readonly workerIdleMs?: number;
  /** Use openat2(2) for bindBeneath (default); false walks with openat(2) per component. */
  readonly useOpenat2?: boolean;
}

/** Default bound on mount worker threads: each costs ~6 MiB that stay after it ends (bench). */
const MAX_WORKERS = 2;

/** Mounter backed by the kernel. */
export class SystemMounter implements Mounter {
  readonly #options: SystemMounterOptions;
  readonly #idle: IdleWorkers<Worker>;
  /** Busy workers and when their call started. */
  #busy = new Map<Worker, number>();
  /** Calls waiting for a worker, oldest first. */
  readonly #waiting = new WaitQueue();

  constructor(options: SystemMounterOptions) {
    this.#options = options;
    this.#idle = new IdleWorkers(options.workerIdleMs ?? WORKER_IDLE_MS);
  }

  /** Concurrent callers share one read that began after they asked (fresh_read.ts). */
  readonly #mountInfo = new FreshRead(async () =>
    parseMountInfo(await Deno.readTextFile(this.#options.mountInfoPath ?? "/proc/self/mountinfo"))
  );

  mountInfo(): Promise<MountInfo[]> {
    return this.#mountInfo.read();
  }

  async bind(source: string, target: string, flags: readonly MountFlag[]): Promise<void> {
    const timeoutMs = this.#options.timeoutMs;
    if (flags.length === 0) {
      await this.#mount("bind", target, { source, target, flags: MS_BIND }, timeoutMs);
      return;
    }
    const scratchDir = this.#options.scratchDir;
    if (!scratchDir) throw new Error("Cannot bind with flags: no scratch directory configured");
    const scratch = await emptyDirIn(scratchDir, "bind-");
    try {
      await this.#mount("bind", scratch, { source, target: scratch, flags: MS_BIND }, timeoutMs);
      try {
        const bits = flags.reduce((sum, flag) => sum | FLAG_BITS[flag], MS_BIND | MS_REMOUNT);
        await this.#mount(
          "remount",
          scratch,
          { source: null, target: scratch, flags: bits },
          timeoutMs,
        );
        await this.#mount("move", target, { source: scratch, target, flags: MS_MOVE }, timeoutMs);
      } catch (error) {
        await this.unmount(scratch, "lazy", timeoutMs).catch(() => undefined);
        throw error;
      }
    } finally {
      await Deno.remove(scratch).catch(() => undefined);
    }
  }

  async bindBeneath(
    source: PathBeneath,
    target: PathBeneath,
    flags: readonly MountFlag[],
  ): Promise<void> {
    const timeoutMs = this.#options.timeoutMs;
    const path = beneathText(target);
    const request = {
      op: "bindBeneath" as const,
      source,
      target,
      remountFlags: flags.reduce((sum, flag) => sum | FLAG_BITS[flag], MS_BIND | MS_REMOUNT),
      useOpenat2: this.#options.useOpenat2 ?? true,
    };
    if (flags.length === 0) {
      this.#check(
        await this.#call({ ...request, scratch: null }, "bind", path, timeoutMs),
        request,
      );
      return;
    }
    const scratchDir = this.#options.scratchDir;
    if (!scratchDir) throw new Error("Cannot bind with flags: no scratch directory configured");
    const scratch = await emptyDirIn(scratchDir, "bind-");
    try {
      const reply = await this.#call({ ...request, scratch }, "bind", path, timeoutMs);
      this.#check(reply, request);
    } catch (error) {
      if (error instanceof MountTimeoutError) {
        await this.unmount(scratch, "lazy", timeoutMs).catch(() => undefined);
      }
      throw error;
    } finally {
      await Deno.remove(scratch).catch(() => undefined);
    }
  }

  async replaceBeneath(
    source: PathBeneath,
    target: PathBeneath,
    flags: readonly MountFlag[],
  ): Promise<void> {
    const timeoutMs = this.#options.timeoutMs;
    const scratchDir = this.#options.scratchDir;
    if (!scratchDir) throw new Error("Cannot replace a mount: no scratch directory configured");
    const scratch = await emptyDirIn(scratchDir, "replace-");
    const request = {
      op: "replaceBeneath" as const,
      source,
      target,
      scratch,
      remountFlags: flags.reduce((sum, flag) => sum | FLAG_BITS[flag], MS_BIND | MS_REMOUNT),
      useOpenat2: this.#options.useOpenat2 ?? true,
    };
    try {
      this.#check(await this.#call(request, "replace", beneathText(target), timeoutMs), request);
    } catch (error) {
      if (error instanceof MountTimeoutError) {
        await this.unmount(scratch, "lazy", timeoutMs).catch(() => undefined);
      }
      throw error;
    } finally {
      await Deno.remove(scratch).catch(() => undefined);
    }
  }

  #check(reply: SyscallReply, request: { source: PathBeneath; target: PathBeneath }): void {
    if (reply.errno === 0) return;
    const errno = errnoName(reply.errno);
    const step = reply.step ?? "bind";
    if (step === "source" || step === "target") {
      throw new PathBeneathError(step, request[step], errno);
    }
    throw new MountError(step, beneathText(request.target), errno);
  }

  async unmount(target: string, mode: UnmountMode, timeoutMs: number): Promise<void> {
    const reply = await this.#call(
      { op: "umount2", target, flags: UNMOUNT_BITS[mode] | UMOUNT_NOFOLLOW },
      `unmount (${mode})`,
      target,
      timeoutMs,
    );
    if (reply.errno === 0) return;
    const errno = errnoName(reply.errno);
    if (errno === "EINVAL" || errno === "ENOENT") return;
    throw new MountError(`unmount (${mode})`, target, errno);
  }

  /** On the main thread: `path` is the driver's local state dir (local_mount.ts). */
  async makePrivate(path: string): Promise<void> {
    const mounts = await this.mountInfo();
    if (!mounts.some((m) => m.mountPoint === path)) {
      const errno = mountLocal(path, path, MS_BIND);
      if (errno !== 0) throw new MountError("bind", path, errnoName(errno));
    }
    const errno = mountLocal(null, path, MS_PRIVATE);
    if (errno !== 0) throw new MountError("make-private", path, errnoName(errno));
  }

  close(): void {
    for (const worker of this.#busy.keys()) worker.terminate();
    this.#idle.clear();
    this.#busy.clear();
  }

  async #mount(
    operation: string,
    path: string,
    request: { source: string | null; target: string; flags: number },
    timeoutMs: number,
  ): Promise<void> {
    const reply = await this.#call(
      { op: "mount", fsType: null, ...request },
      operation,
      path,
      timeoutMs,
    );
    if (reply.errno !== 0) throw new MountError(operation, path, errnoName(reply.errno));
  }

  async #call(
    request: SyscallRequest,
    operation: string,
    path: string,
    timeoutMs: number,
  ): Promise<SyscallReply> {
    const deadline = Date.now() + timeoutMs;
    const worker = await this.#acquire(operation, path, timeoutMs, deadline);
    return await new Promise<SyscallReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The thread may be stuck in the kernel: abandon it, never reuse it.
        this.#busy.delete(worker);
        worker.terminate();
        this.#wakeNext();
        reject(new MountTimeoutError(operation, path, timeoutMs));
      }, Math.max(0, deadline - Date.now()));
      worker.onmessage = (event: MessageEvent<SyscallReply>) => {
        clearTimeout(timer);
        this.#release(worker);
        resolve(event.data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        clearTimeout(timer);
        this.#busy.delete(worker);
        worker.terminate();
        this.#wakeNext();
        reject(new Error(`Mount worker failed during ${operation} "${path}": ${event.message}`));
      };
      worker.postMessage(request);
    });
  }

  /** A free worker: an idle one, a new one below the bound, or the next to come free. */
  async #acquire(
    operation: string,
    path: string,
    timeoutMs: number,
    deadline: number,
  ): Promise<Worker> {
    while (true) {
      const now = Date.now();
      if (deadline - now <= 0) {
        this.#wakeNext(); // a wake-up meant for this caller goes to the next one
        throw new MountTimeoutError(operation, path, timeoutMs);
      }
      const idle = this.#idle.take();
      if (idle) {
        this.#busy.set(idle, now);
        return idle;
      }
      // A bind takes about a millisecond: 200 publishes at once queue for one thread (a second
      // cost 7 MiB of peak memory and gained nothing on 2 cores).
      const spareAt = nextWorkerAt(
        [...this.#busy.values()],
        this.#options.maxWorkers ?? MAX_WORKERS,
        this.#options.spareAfterMs ?? SPARE_AFTER_MS,
      );
      if (now >= spareAt) {
        const fresh = new Worker(new URL("./_syscall_worker.ts", import.meta.url), {
          type: "module",
        });
        this.#busy.set(fresh, now);
        return fresh;
      }
      await this.#waiting.wait(Math.min(deadline, spareAt));
    }
  }

  /** Returns a worker: kept idle for the next calls (IdleWorkers ends it later). */
  #release(worker: Worker): void {
    this.#busy.delete(worker);
    this.#idle.put(worker);
    this.#wakeNext();
  }

  #wakeNext(): void {
    this.#waiting.wakeNext();
  }

  /** Worker threads alive now. */
  get workerCount(): number {
    return this.#idle.length + this.#busy.size;
  }
}

/** A new empty directory in `dir`; `dir` is made first only when it is missing (one call, mostly). */
async function emptyDirIn(dir: string, prefix: string): Promise<string> {
  try {
    return await Deno.makeTempDir({ dir, prefix });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true });
  return await Deno.makeTempDir({ dir, prefix });
}
