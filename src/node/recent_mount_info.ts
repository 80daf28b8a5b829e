/**
 * Mountinfo for NodeGetVolumeStats on a node with hundreds of volumes:
 * kubelet asks stats of every volume at about the same time, and each read
 * of /proc/self/mountinfo (the kernel's text of every mount, then its
 * parsing) costs milliseconds there. One read answers the stats calls of a
 * short while; any change of mounts by the driver drops it.
 */
import type { MountInfo } from "../mount/mountinfo.ts";

/** How long one read of mountinfo answers stats calls. */
export const RECENT_MOUNT_INFO_MS = 1_000;

/** A recent read of mountinfo, shared by the calls that ask meanwhile. */
export class RecentMountInfo {
  #entry: { at: number; value: Promise<MountInfo[]> } | undefined;
  /** Mount changes running now: no read is kept while one runs. */
  #changing = 0;

  constructor(
    private readonly read: () => Promise<MountInfo[]>,
    private readonly maxAgeMs = RECENT_MOUNT_INFO_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The mounts, read at most maxAgeMs ago and after the last mount change ended. */
  get(): Promise<MountInfo[]> {
    const entry = this.#entry;
    if (entry && this.now() - entry.at < this.maxAgeMs) return entry.value;
    const value = this.read();
    this.#entry = this.#changing === 0 ? { at: this.now(), value } : undefined;
    value.catch(() => {
      if (this.#entry?.value === value) this.#entry = undefined;
    });
    return value;
  }

  /** Runs `change`, which may mount or unmount; later reads see its result. */
  async changing<T>(change: () => Promise<T>): Promise<T> {
    this.#changing++;
    this.#entry = undefined;
    try {
      return await change();
    } finally {
      this.#changing--;
      this.#entry = undefined;
    }
  }
}
