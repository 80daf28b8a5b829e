/**
 * The one gate for file system calls on paths inside Lustre mounts (stat,
 * statfs, readdir, realpath). A Lustre client waiting for its servers blocks
 * such calls in the kernel for minutes, so they run as synchronous libc calls
 * in dedicated worker threads, never on Deno's shared blocking pool, each
 * bounded by a timeout.
 *
 * Per mount (the caller's key) a circuit breaker: once a call overruns, the
 * mount counts as not answering; the calls running on it give up and every
 * further call fails at once with FsNotAnsweringError, until one background
 * probe (never more than one in flight, retried every probe interval)
 * answers within the timeout again.
 * A mount runs at most `perMount` calls at once, and the same call on the
 * same path runs once however many ask. Threads stay bounded: `poolSize`
 * workers for calls that have not overrun, plus at most `perMount + 1`
 * abandoned ones (its calls and its probe) per mount that hangs.
 */
import type { Logger } from "../log.ts";
import { SingleFlight } from "../single_flight.ts";
import { errnoName } from "./errno_names.ts";
import type { FsCallReply, FsCallRequest } from "./fs_call_worker.ts";
import { type FsCall, FsWorkerPool, type PoolCounts, type WorkerLike } from "./fs_worker_pool.ts";
import type { MountInfo } from "./mountinfo.ts";
import { type FsUsage, type PathHealth, STALE_ERRNOS } from "./path_health.ts";

/** A Lustre mount whose calls overran: answered at once until a probe sees it answer. */
export class FsNotAnsweringError extends Error {
  override name = "FsNotAnsweringError";
  constructor(readonly key: string, readonly since: Date, probeIntervalMs: number) {
    super(
      `Lustre file system not answering since ${since.toISOString()}: ${key} ` +
        `(checked again every ${probeIntervalMs} ms)`,
    );
  }
}

/** No worker thread came free in time (the gate's own limit, not the file system's). */
export class FsGateBusyError extends Error {
  override name = "FsGateBusyError";
  constructor(readonly path: string, timeoutMs: number) {
    super(`No file system worker came free within ${timeoutMs} ms for "${path}"`);
  }
}

/** What stat answers. */
export interface FsStat {
  readonly isDirectory: boolean;
  readonly size: number;
}

/** File system calls on paths inside Lustre mounts; `key` names the mount (see gateKey). */
export interface FsGate {
  /**
   * statfs(2) figures.
   * @throws FsNotAnsweringError, Error with the errno name as `code`
   */
  usage(key: string, path: string): Promise<FsUsage>;
  /** @throws FsNotAnsweringError, Error with `code` (Deno.errors.NotFound for ENOENT) */
  stat(key: string, path: string): Promise<FsStat>;
  /** @throws FsNotAnsweringError, Error with `code` (Deno.errors.NotFound for ENOENT) */
  realPath(key: string, path: string): Promise<string>;
  /**
   * Stats the path and reads its first directory entry; errno answers are
   * unhealthy (stale for ENOTCONN, ESTALE, ...).
   * @throws FsNotAnsweringError when the mount does not answer
   */
  check(key: string, path: string): Promise<PathHealth>;
  /** Since when the mount `key` is not answering; undefined while it answers. */
  notAnsweringSince(key: string): Date | undefined;
  /** The mounts not answering now (their breaker is open), with since when. */
  notAnswering(): { readonly key: string; readonly since: Date }[];
  /** Ends the worker threads and probes. */
  close(): void;
}

/** The breaker key of a mount: its source and device, the same for every bind of it. */
export function gateKey(mount: Pick<MountInfo, "source" | "major" | "minor">): string {
  return `${mount.source} (device ${mount.major}:${mount.minor})`;
}

/** The mount source a breaker key (gateKey) names. */
export function sourceOfGateKey(key: string): string {
  const at = key.lastIndexOf(" (device ");
  return at < 0 ? key : key.slice(0, at);
}

/** Settings of the gate. */
export interface WorkerFsGateOptions {
  /** Limit of each call. */
  readonly timeoutMs: number;
  /** How often a mount that is not answering is probed. */
  readonly probeIntervalMs: number;
  readonly logger?: Logger;
  /** Worker threads at most for calls that have not overrun (default 8). */
  readonly poolSize?: number;
  /** Calls at most in flight on one mount (default 4). */
  readonly perMount?: number;
  /** A further worker only once every busy call has run this long (default SPARE_AFTER_MS). */
  readonly spareAfterMs?: number;
  /** Makes a worker; tests pass fakes. */
  readonly createWorker?: () => WorkerLike;
}

/** State of one mount that does not answer. */
interface Breaker {
  readonly since: Date;
  /** A path on the mount, for the probe. */
  path: string;
  timer: ReturnType<typeof setInterval>;
}

/** The gate, with worker threads running libc calls. */
export class WorkerFsGate implements FsGate {
  readonly #options: WorkerFsGateOptions;
  readonly #pool: FsWorkerPool;
  readonly #breakers = new Map<string, Breaker>();
  /** Calls in flight per mount, abandoned ones included. */
  readonly #inFlight = new Map<string, number>();
  /** Calls waiting for a slot of their mount. */
  readonly #waiting = new Map<string, (() => void)[]>();
  readonly #flights = new SingleFlight<FsCallReply>();
  /** Mounts with a probe in flight. */
  readonly #probing = new Set<string>();
  /** Per mount, how to wake its running calls when its breaker opens. */
  readonly #running = new Map<string, Set<() => void>>();

  constructor(options: WorkerFsGateOptions) {
    this.#options = options;
    this.#pool = new FsWorkerPool({
      size: options.poolSize ?? 4,
      create: options.createWorker,
      spareAfterMs: options.spareAfterMs,
    });
  }

  async usage(key: string, path: string): Promise<FsUsage> {
    const reply = await this.#run(key, { op: "statfs", path });
    throwErrno(reply, "statfs", path);
    const [bsize, blocks, bfree, bavail, files, ffree] = reply.statfs!;
    return {
      totalBytes: blocks * bsize,
      availableBytes: bavail * bsize,
      usedBytes: Math.max(0, (blocks - bfree) * bsize),
      totalInodes: files,
      freeInodes: ffree,
      usedInodes: Math.max(0, files - ffree),
    };
  }

  async stat(key: string, path: string): Promise<FsStat> {
    const reply = await this.#run(key, { op: "stat", path });
    throwErrno(reply, "stat", path);
    const { mode, size } = reply.stat!;
    return { isDirectory: (mode & 0o170000) === 0o040000, size };
  }

  async realPath(key: string, path: string): Promise<string> {
    const reply = await this.#run(key, { op: "realpath", path });
    throwErrno(reply, "realpath", path);
    return reply.realpath!;
  }

  async check(key: string, path: string): Promise<PathHealth> {
    const reply = await this.#run(key, { op: "check", path });
    if (reply.errno === 0) return { healthy: true };
    const code = errnoName(reply.errno);
    return { healthy: false, stale: STALE_ERRNOS.has(code), reason: `${code}: "${path}"` };
  }

  notAnsweringSince(key: string): Date | undefined {
    return this.#breakers.get(key)?.since;
  }

  notAnswering(): { key: string; since: Date }[] {
    return [...this.#breakers].map(([key, breaker]) => ({ key, since: breaker.since }));
  }

  /** Worker threads per state, for tests and metrics. */
  get threads(): PoolCounts {
    return this.#pool.counts;
  }

  close(): void {
    for (const breaker of this.#breakers.values()) clearInterval(breaker.timer);
    this.#breakers.clear();
    this.#pool.close();
  }

  /** One call, shared by everyone asking the same on the same path. */
  #run(key: string, request: FsCallRequest): Promise<FsCallReply> {
    const open = this.#breakers.get(key);
    if (open) {
      open.path = request.path;
      return Promise.reject(this.#notAnswering(key, open.since));
    }
    return this.#flights.run(`${request.op}\0${request.path}`, () => this.#call(key, request));
  }

  async #call(key: string, request: FsCallRequest): Promise<FsCallReply> {
    const { timeoutMs } = this.#options;
    const started = new Date();
    const deadline = started.getTime() + timeoutMs;
    await this.#takeSlot(key, request.path, deadline);
    let call: FsCall | undefined;
    try {
      call = await this.#pool.start(request, deadline);
    } finally {
      if (!call) this.#freeSlot(key);
    }
    if (!call) throw new FsGateBusyError(request.path, timeoutMs);
    call.reply.then(() => this.#freeSlot(key), () => this.#freeSlot(key));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: () => void = () => {};
    const overran = new Promise<"overran" | "opened">((resolve) => {
      timer = setTimeout(() => resolve("overran"), Math.max(0, deadline - Date.now()));
      wake = () => resolve("opened");
    });
    const running = this.#running.get(key) ?? new Set();
    this.#running.set(key, running.add(wake));
    let result: FsCallReply | "overran" | "opened";
    try {
      result = await Promise.race([call.reply, overran]);
    } finally {
      clearTimeout(timer);
      running.delete(wake);
      if (running.size === 0 && this.#running.get(key) === running) this.#running.delete(key);
    }
    if (result !== "overran" && result !== "opened") return result;
    this.#pool.abandon(call);
    // Another call on the mount overran first: this one gives up at once too.
    throw this.#open(key, request.path, started);
  }

  /** Waits until `key` runs fewer than perMount calls; fails when its breaker opens or time runs out. */
  async #takeSlot(key: string, path: string, deadline: number): Promise<void> {
    const limit = this.#options.perMount ?? 4;
    while ((this.#inFlight.get(key) ?? 0) >= limit) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.#open(key, path, new Date(deadline - this.#options.timeoutMs));
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          const list = (this.#waiting.get(key) ?? []).filter((w) => w !== wake);
          if (list.length > 0) this.#waiting.set(key, list);
          else this.#waiting.delete(key);
          resolve();
        }, remaining);
        this.#waiting.set(key, [...(this.#waiting.get(key) ?? []), wake]);
      });
      const open = this.#breakers.get(key);
      if (open) throw this.#notAnswering(key, open.since);
    }
    this.#inFlight.set(key, (this.#inFlight.get(key) ?? 0) + 1);
  }

  #freeSlot(key: string): void {
    const left = (this.#inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.#inFlight.set(key, left);
    else this.#inFlight.delete(key);
    this.#wakeAll(key);
  }

  #wakeAll(key: string): void {
    const waiting = this.#waiting.get(key) ?? [];
    this.#waiting.delete(key);
    for (const wake of waiting) wake();
  }

  /** Opens the breaker of `key` (if not yet open); returns the error to answer with. */
  #open(key: string, path: string, since: Date): FsNotAnsweringError {
    const existing = this.#breakers.get(key);
    if (existing) return this.#notAnswering(key, existing.since);
    const breaker: Breaker = {
      since,
      path,
      timer: setInterval(() => this.#probe(key, breaker), this.#options.probeIntervalMs),
    };
    Deno.unrefTimer(breaker.timer as unknown as number);
    this.#breakers.set(key, breaker);
    for (const wake of this.#running.get(key) ?? []) wake();
    this.#wakeAll(key);
    this.#options.logger?.warn(
      "Lustre file system not answering: {key}; calls on it fail at once until it answers",
      { key, path, since: since.toISOString(), timeoutMs: this.#options.timeoutMs },
    );
    return this.#notAnswering(key, since);
  }

  /**
   * One probe per mount at a time (it stays counted until its call returns,
   * however late): a stat of a path on the mount that answers within the
   * timeout closes the breaker. A path that left the mount (unmounted, so
   * ENOENT or another device) proves nothing: the breaker waits for a newer
   * path from the calls, and is dropped when none came (nothing asks about
   * the mount any more; a later call finds out again within its timeout).
   */
  #probe(key: string, breaker: Breaker): void {
    if (this.#probing.has(key) || this.#breakers.get(key) !== breaker) return;
    const path = breaker.path;
    const call = this.#pool.tryStart({ op: "stat", path }, true);
    if (!call) return;
    this.#probing.add(key);
    const started = Date.now();
    const timer = setTimeout(() => this.#pool.abandon(call), this.#options.timeoutMs);
    call.reply.then((reply) => probeVerdict(reply, key), () => "late" as const).then((verdict) => {
      clearTimeout(timer);
      this.#probing.delete(key);
      if (Date.now() - started > this.#options.timeoutMs) verdict = "late";
      if (this.#breakers.get(key) !== breaker || verdict === "late") return;
      if (verdict === "gone" && breaker.path !== path) return;
      clearInterval(breaker.timer);
      this.#breakers.delete(key);
      if (verdict === "gone") return;
      this.#options.logger?.info("Lustre file system answers again: {key}", {
        key,
        since: breaker.since.toISOString(),
      });
    });
  }

  #notAnswering(key: string, since: Date): FsNotAnsweringError {
    return new FsNotAnsweringError(key, since, this.#options.probeIntervalMs);
  }
}

/**
 * What a probe's answer says about mount `key`: it answers, or the path is
 * gone from it (not found, or on another device than the key's).
 */
function probeVerdict(reply: FsCallReply, key: string): "answers" | "gone" {
  if (reply.errno !== 0) {
    return ["ENOENT", "ENOTDIR"].includes(errnoName(reply.errno)) ? "gone" : "answers";
  }
  const device = /\(device (\d+):(\d+)\)$/.exec(key);
  if (!device || !reply.stat) return "answers";
  const same = reply.stat.major === Number(device[1]) && reply.stat.minor === Number(device[2]);
  return same ? "answers" : "gone";
}

/** Throws the errno of a failed call as an Error with `code` (NotFound for ENOENT). */
function throwErrno(reply: FsCallReply, op: string, path: string): void {
  if (reply.errno === 0) return;
  const code = errnoName(reply.errno);
  const message = `${op} "${path}" failed: ${code}`;
  const error = code === "ENOENT" ? new Deno.errors.NotFound(message) : new Error(message);
  throw Object.assign(error, { code });
}
