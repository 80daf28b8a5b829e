/** Resident memory of a process, from /proc/PID/status (VmRSS), once or sampled. */

/**
 * VmRSS of `pid` in KiB.
 * @throws Deno.errors.NotFound when the process is gone
 */
export async function readRssKiB(pid: number): Promise<number> {
  return parseRssKiB(await Deno.readTextFile(`/proc/${pid}/status`));
}

/**
 * Threads of `pid` (the driver runs each mount system call on a worker thread).
 * @throws Deno.errors.NotFound when the process is gone
 */
export async function readThreads(pid: number): Promise<number> {
  const match = /^Threads:\s+(\d+)$/m.exec(await Deno.readTextFile(`/proc/${pid}/status`));
  return match ? Number(match[1]) : NaN;
}

/**
 * The VmRSS line of a /proc/PID/status text, in KiB.
 * @throws SyntaxError when there is none (a kernel thread or a zombie)
 */
export function parseRssKiB(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new SyntaxError("No VmRSS line in the status");
  return Number(match[1]);
}

/** Samples VmRSS every intervalMs until stopped; keeps the peak. */
export class RssSampler {
  #peakKiB = 0;
  #samples = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly pid: number, readonly intervalMs = 20) {}

  /** Takes a first sample and starts the timer. */
  async start(): Promise<void> {
    await this.#sample();
    this.#timer = setInterval(() => void this.#sample(), this.intervalMs);
  }

  /** Stops, takes a last sample and returns the peak in KiB and the sample count. */
  async stop(): Promise<{ peakKiB: number; samples: number }> {
    clearInterval(this.#timer);
    await this.#sample();
    return { peakKiB: this.#peakKiB, samples: this.#samples };
  }

  async #sample(): Promise<void> {
    try {
      this.#peakKiB = Math.max(this.#peakKiB, await readRssKiB(this.pid));
      this.#samples++;
    } catch {
      // the process exited; the peak so far stands
    }
  }
}
