/**
 * Callers waiting for a worker thread to come free, oldest first. A wait
 * ends when the caller is woken or at its deadline, whichever comes first.
 */
export class WaitQueue {
  #waiting: (() => void)[] = [];

  /** How many callers wait now. */
  get length(): number {
    return this.#waiting.length;
  }

  /** Waits until woken or until `deadline` (epoch ms). */
  wait(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== wake);
        resolve();
      }, Math.max(0, deadline - Date.now()));
      this.#waiting.push(wake);
    });
  }

  /** Wakes the oldest waiter, if any. */
  wakeNext(): void {
    this.#waiting.shift()?.();
  }
}
