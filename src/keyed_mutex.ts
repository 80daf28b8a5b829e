/**
 * An internal per-key mutex for short critical sections inside one RPC (for
 * example "check the shared mount, then bind from it"). RPC-level locks are
 * in locks.ts and never wait; this one waits, and every holder is bounded by
 * a command or mount timeout.
 */
export class KeyedMutex {
  #tails = new Map<string, Promise<void>>();

  /** Runs `work` when no other holder of `key` is running. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => release = resolve);
    const tail = previous.then(() => current);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
