/**
 * The Mounter interface: the kernel's mount table and the three mount
 * operations the driver needs. No external program is involved.
 */
import type { MountInfo } from "./mountinfo.ts";

/** Per-mount flags a bind may carry. */
export type MountFlag =
  | "ro"
  | "nosuid"
  | "nodev"
  | "noexec"
  | "noatime"
  | "nodiratime"
  | "relatime"
  | "strictatime";

/** Unmount strength: plain, MNT_FORCE, MNT_DETACH. */
export type UnmountMode = "plain" | "force" | "lazy";

/** A failed mount system call, with the errno name (e.g. "ENOENT"). */
export class MountError extends Error {
  override name = "MountError";
  constructor(readonly operation: string, readonly path: string, readonly errno: string) {
    super(`${operation} "${path}" failed: ${errno} (${describeErrno(errno)})`);
  }
}

/** A mount system call that did not return within its timeout. */
export class MountTimeoutError extends Error {
  override name = "MountTimeoutError";
  constructor(readonly operation: string, readonly path: string, readonly timeoutMs: number) {
    super(`${operation} "${path}" did not return within ${timeoutMs} ms`);
  }
}

/** Kernel mount operations and the mount table. */
export interface Mounter {
  /** The current mount table of this process's mount namespace. */
  mountInfo(): Promise<MountInfo[]>;
  /**
   * Bind-mounts `source` on `target` with `flags`, atomically: the target
   * never shows the bind without its flags.
   * @throws MountError, MountTimeoutError
   */
  bind(source: string, target: string, flags: readonly MountFlag[]): Promise<void>;
  /**
   * One unmount attempt; "not mounted" (EINVAL) counts as success.
   * @throws MountError, MountTimeoutError
   */
  unmount(target: string, mode: UnmountMode, timeoutMs: number): Promise<void>;
  /** Makes `path` a private mount of itself so nothing below it propagates. */
  makePrivate(path: string): Promise<void>;
  /** Frees helper threads. */
  close(): void;
}

const ERRNO_TEXT: Record<string, string> = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  EIO: "Input/output error",
  EACCES: "Permission denied",
  EBUSY: "Device or resource busy",
  ENOTDIR: "Not a directory",
  EINVAL: "Invalid argument",
  ESTALE: "Stale file handle",
  ENOTCONN: "Transport endpoint is not connected",
  ESHUTDOWN: "Cannot send after transport endpoint shutdown",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
};

/** Human text for an errno name. */
export function describeErrno(errno: string): string {
  return ERRNO_TEXT[errno] ?? errno;
}
