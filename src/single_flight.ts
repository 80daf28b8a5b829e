/** Lets concurrent callers share one computation, so a slow check never runs twice at once. */

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
