/**
 * Per-key operation locks. A busy key is never waited on: the caller gets
 * LockBusyError at once and answers ABORTED, as the CSI spec allows.
 */

/** Thrown when another call holds one of the requested keys. */
export class LockBusyError extends Error {
  override name = "LockBusyError";
  constructor(readonly key: string) {
    super(`An operation is already pending for "${key}"`);
  }
}

/** A set of held keys, released exactly once. */
export interface Lease extends Disposable {
  release(): void;
}

/** The table of keys currently held by in-flight calls. */
export class LockTable {
  #held = new Set<string>();

  /**
   * Takes every key or none.
   * @throws LockBusyError naming the first busy key
   */
  acquire(keys: readonly string[]): Lease {
    const unique = [...new Set(keys)];
    const busy = unique.find((key) => this.#held.has(key));
    if (busy !== undefined) throw new LockBusyError(busy);
    for (const key of unique) this.#held.add(key);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      for (const key of unique) this.#held.delete(key);
    };
    return { release, [Symbol.dispose]: release };
  }

  /** Number of keys held now. */
  get size(): number {
    return this.#held.size;
  }
}
