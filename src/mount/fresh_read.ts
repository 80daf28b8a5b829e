/**
 * One read shared by the callers that ask for it at about the same time,
 * each still getting a read that began after it asked: a caller that finds a
 * read already running waits for the next one, which all such callers share.
 * With 200 publishes at once, each reading /proc/self/mountinfo (hundreds of
 * lines, then as many parsed objects) while it waits for a mount thread,
 * the reads and their copies were most of the driver's memory peak.
 */
export class FreshRead<T> {
  #running: Promise<T> | undefined;
  #next: Promise<T> | undefined;

  constructor(private readonly load: () => Promise<T>) {}

  /** The result of a load that started at or after this call. */
  read(): Promise<T> {
    if (!this.#running) return this.#start();
    this.#next ??= this.#running.then(() => undefined, () => undefined).then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<T> {
    const running: Promise<T> = this.load().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
