/**
 * Caches an async result for a while and lets concurrent callers share one
 * computation, so a slow check never runs twice at once.
 */

/** A cached async value with a time to live. */
export class CachedCheck<T> {
  #value: { at: number; result: T } | undefined;
  #pending: Promise<T> | undefined;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached result if fresh, else the result of one shared computation. */
  get(): Promise<T> {
    if (this.#value && this.now() - this.#value.at < this.ttlMs) {
      return Promise.resolve(this.#value.result);
    }
    this.#pending ??= this.compute().then((result) => {
      this.#value = { at: this.now(), result };
      return result;
    }).finally(() => this.#pending = undefined);
    return this.#pending;
  }
}

/** Runs at most one computation per key at a time; later callers join it. */
export class SingleFlight<T> {
  #inFlight = new Map<string, Promise<T>>();

  /** Joins the running computation for `key`, or starts `compute`. */
  run(key: string, compute: () => Promise<T>): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const started = compute().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, started);
    return started;
  }
}
