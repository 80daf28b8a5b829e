/**
 * What the controller keeps on one mounted file system, in one place: the
 * volume records, the project-ID allocator, and the lock that serialises
 * every change to them across controller processes and hosts.
 */
import { hostname } from "node:os";
import { Allocator } from "./allocator.ts";
import { FsLock } from "./fs_lock.ts";
import { RecordStore } from "./records.ts";

/** Where the lock file lives, relative to the file system root. */
export const LOCK_FILE = ".klustre-csi/locks/volumes.lock";

/** The controller's state on one mounted file system. */
export interface VolumeFs {
  readonly mountPath: string;
  readonly records: RecordStore;
  readonly allocator: Allocator;
  /** Held for each change to records, the allocator and the trash. */
  readonly lock: FsLock;
}

/**
 * The lease: twice the bound of one step, at least 30 s. A holder renews it
 * while it works; a crashed holder's lock is free once it ends.
 */
export function lockLeaseMs(timeoutMs: number): number {
  return Math.max(30_000, 2 * timeoutMs);
}

/** The state of the file system mounted at `mountPath`. */
export function volumeFs(mountPath: string, timeoutMs: number): VolumeFs {
  const records = new RecordStore(mountPath, timeoutMs);
  return {
    mountPath,
    records,
    allocator: new Allocator(mountPath, records, timeoutMs),
    lock: new FsLock(`${mountPath}/${LOCK_FILE}`, {
      leaseMs: lockLeaseMs(timeoutMs),
      waitMs: Math.max(30_000, 2 * timeoutMs),
      timeoutMs,
      owner: `${hostname()}/${Deno.pid}`,
    }),
  };
}
