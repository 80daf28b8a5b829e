/**
 * Idle worker threads of a pool, kept for a while for the next calls, each
 * ended once it has been idle for `idleMs`. Pools start with none and make
 * workers on demand: a worker thread is a V8 isolate of its own (several
 * MiB), while ending and making one per call costs CPU and leaves memory
 * behind, so a burst of calls reuses the few workers it made, and they end
 * once the burst is over.
 */

/** How long an idle worker thread is kept (the default of the pools). */
export const WORKER_IDLE_MS = 5_000;

/**
 * A pool makes a further thread only once every busy one has been on its call
 * this long (the default of the pools): quick calls queue for the threads there
 * are (each costs 6.5-8 MiB), while calls behind one stuck in the kernel (a
 * Lustre that hangs) get a spare soon.
 */
export const SPARE_AFTER_MS = 100;

/**
 * When a pool whose busy calls started at `busyStarts` may make a further
 * thread: at once when none is busy, never at its bound of `max`, else once
 * the newest busy call has run `spareAfterMs`.
 */
export function nextWorkerAt(
  busyStarts: readonly number[],
  max: number,
  spareAfterMs: number,
): number {
  if (busyStarts.length === 0) return -Infinity;
  if (busyStarts.length >= max) return Infinity;
  return Math.max(...busyStarts) + spareAfterMs;
}

/** What the pool ends. */
export interface Terminable {
  terminate(): void;
}

/** Idle workers, newest last; a timer ends those idle too long. */
export class IdleWorkers<W extends Terminable> {
  #idle: { worker: W; since: number }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly idleMs = WORKER_IDLE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Idle workers now. */
  get length(): number {
    return this.#idle.length;
  }

  /** The most recently idle worker (the oldest ones age out), if any. */
  take(): W | undefined {
    return this.#idle.pop()?.worker;
  }

  /** Keeps `worker` idle until taken or idle for idleMs. */
  put(worker: W): void {
    this.#idle.push({ worker, since: this.now() });
    this.#schedule();
  }

  /** The idle workers, for close(). */
  get workers(): W[] {
    return this.#idle.map((entry) => entry.worker);
  }

  /** Ends every idle worker and the timer. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const { worker } of this.#idle) worker.terminate();
    this.#idle = [];
  }

  /** Ends the workers idle for idleMs or more. */
  sweep(): void {
    const now = this.now();
    const expired = this.#idle.filter((entry) => now - entry.since >= this.idleMs);
    this.#idle = this.#idle.filter((entry) => now - entry.since < this.idleMs);
    for (const { worker } of expired) worker.terminate();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#idle.length === 0) return;
    const oldest = this.#idle[0].since;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.sweep();
      this.#schedule();
    }, Math.max(0, oldest + this.idleMs - this.now()));
    // An idle worker never keeps the process alive.
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}
