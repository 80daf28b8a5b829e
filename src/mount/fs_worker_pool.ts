/**
 * Worker threads of the file system gate. A worker runs one call at a time
 * (fs_call_worker.ts). A worker whose call overran is abandoned: it no
 * longer counts against the pool size (so a hung file system never starves
 * the others), and it rejoins the pool when its call finally returns
 * (terminate() cannot free a thread that is inside a system call).
 */
import { WaitQueue } from "./wait_queue.ts";
import { IdleWorkers, nextWorkerAt, SPARE_AFTER_MS, WORKER_IDLE_MS } from "./idle_workers.ts";
import type { FsCallReply, FsCallRequest } from "./fs_call_worker.ts";

/** The part of a Worker the pool uses; tests pass fakes. */
export interface WorkerLike {
  postMessage(message: FsCallRequest): void;
  onmessage: ((event: MessageEvent<FsCallReply>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

/** One call running on a worker. */
export interface FsCall {
  readonly reply: Promise<FsCallReply>;
}

/** Settings of the pool. */
export interface FsWorkerPoolOptions {
  /** Workers at most in calls that are not abandoned. */
  readonly size: number;
  /** How long an idle worker is kept for the next calls (default WORKER_IDLE_MS). */
  readonly idleMs?: number;
  /** A further worker only once every busy call has run this long (default SPARE_AFTER_MS). */
  readonly spareAfterMs?: number;
  readonly create?: () => WorkerLike;
}

/** Thread counts of the pool. */
export interface PoolCounts {
  readonly busy: number;
  readonly idle: number;
  /** Abandoned workers still inside their call. */
  readonly stuck: number;
}

/** Runs file system calls on a bounded set of worker threads. */
export class FsWorkerPool {
  readonly #options: FsWorkerPoolOptions;
  readonly #idle: IdleWorkers<WorkerLike>;
  readonly #busy = new Map<FsCall, WorkerLike>();
  /** When each busy call started. */
  readonly #started = new Map<FsCall, number>();
  readonly #stuck = new Set<WorkerLike>();
  readonly #waiting = new WaitQueue();
  #closed = false;

  constructor(options: FsWorkerPoolOptions) {
    this.#options = options;
    this.#idle = new IdleWorkers(options.idleMs ?? WORKER_IDLE_MS);
  }

  /**
   * Starts a call on a free worker, or returns undefined when all are busy
   * (and, unless `spareNow`, while a busy call is younger than spareAfterMs).
   */
  tryStart(request: FsCallRequest, spareNow = false): FsCall | undefined {
    if (this.#closed) throw new Error("The file system gate is closed");
    let worker = this.#idle.take();
    if (!worker) {
      if (Date.now() < this.#nextWorkerAt(spareNow)) return undefined;
      worker = (this.#options.create ?? createWorker)();
    }
    const chosen = worker;
    const call: { reply: Promise<FsCallReply> } = { reply: Promise.resolve({ errno: 0 }) };
    call.reply = new Promise<FsCallReply>((resolve, reject) => {
      chosen.onmessage = (event) => {
        this.#finish(call, chosen, true);
        resolve(event.data);
      };
      chosen.onerror = (event) => {
        event.preventDefault();
        this.#finish(call, chosen, false);
        reject(new Error(`File system worker failed: ${event.message}`));
      };
    });
    this.#busy.set(call, chosen);
    this.#started.set(call, Date.now());
    chosen.postMessage(request);
    return call;
  }

  /**
   * Starts a call, waiting for a free worker until `deadline` (epoch ms);
   * undefined when none came free in time.
   */
  async start(request: FsCallRequest, deadline: number): Promise<FsCall | undefined> {
    while (true) {
      const call = this.tryStart(request);
      if (call) return call;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      await this.#waiting.wait(Math.min(deadline, this.#nextWorkerAt()));
    }
  }

  /** The call overran: its worker stops counting against the size until it returns. */
  abandon(call: FsCall): void {
    const worker = this.#busy.get(call);
    if (!worker) return;
    this.#busy.delete(call);
    this.#started.delete(call);
    this.#stuck.add(worker);
    this.#waiting.wakeNext();
  }

  /** When a further worker may be made (with `spareNow`, without waiting for the spare delay). */
  #nextWorkerAt(spareNow = false): number {
    const spareAfterMs = spareNow ? 0 : this.#options.spareAfterMs ?? SPARE_AFTER_MS;
    return nextWorkerAt([...this.#started.values()], this.#options.size, spareAfterMs);
  }

  /** Threads per state. */
  get counts(): PoolCounts {
    return { busy: this.#busy.size, idle: this.#idle.length, stuck: this.#stuck.size };
  }

  /** Ends every worker (stuck ones end when their call returns). */
  close(): void {
    this.#closed = true;
    for (const worker of [...this.#busy.values(), ...this.#stuck]) worker.terminate();
    this.#idle.clear();
    this.#busy.clear();
    this.#started.clear();
    this.#stuck.clear();
  }

  #finish(call: FsCall, worker: WorkerLike, reusable: boolean): void {
    const wasStuck = this.#stuck.delete(worker);
    const wasBusy = this.#busy.delete(call);
    this.#started.delete(call);
    if (!wasStuck && !wasBusy) return;
    worker.onmessage = null;
    worker.onerror = null;
    if (reusable && !this.#closed && this.#idle.length < this.#options.size) {
      this.#idle.put(worker);
    } else {
      worker.terminate();
    }
    this.#waiting.wakeNext();
  }
}

function createWorker(): WorkerLike {
  return new Worker(new URL("./fs_call_worker.ts", import.meta.url), {
    type: "module",
  }) as unknown as WorkerLike;
}
