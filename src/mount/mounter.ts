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

/**
 * A directory given as a trusted directory (`root`, opened normally) and a
 * path below it ("" for the root) that must not pass through a symlink.
 */
export interface PathBeneath {
  readonly root: string;
  readonly path: string;
}

/** The full path a PathBeneath names. */
export function beneathText(where: PathBeneath): string {
  if (where.path === "" || where.path === "/") return where.root;
  return `${where.root}/${where.path.replace(/^\/+/, "")}`;
}

/**
 * A bind's source or target could not be opened below its root: ELOOP (a
 * symlink on the way), EXDEV (it leaves the root), ENOENT, ENOTDIR.
 */
export class PathBeneathError extends Error {
  override name = "PathBeneathError";
  constructor(
    readonly which: "source" | "target",
    readonly where: PathBeneath,
    readonly errno: string,
  ) {
    super(`Cannot open ${which} "${beneathText(where)}": ${errno} (${describeErrno(errno)})`);
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
   * Like bind, but source and target are opened without following symlinks
   * below their roots, and the bind goes from and onto those open
   * directories: no path a user can change is walked twice.
   * @throws PathBeneathError, MountError, MountTimeoutError
   */
  bindBeneath(
    source: PathBeneath,
    target: PathBeneath,
    flags: readonly MountFlag[],
  ): Promise<void>;
  /**
   * Like bindBeneath, but mount-first: the new bind is made and flagged
   * aside, and only then replaces what is mounted at `target` (detached
   * lazily, the new bind moved in). When it fails before that, the target's
   * mount is left as it was; a bare target directory just gets the bind.
   * @throws PathBeneathError, MountError, MountTimeoutError
   */
  replaceBeneath(
    source: PathBeneath,
    target: PathBeneath,
    flags: readonly MountFlag[],
  ): Promise<void>;
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
  EXDEV: "Invalid cross-device link",
};

/** Human text for an errno name. */
export function describeErrno(errno: string): string {
  return ERRNO_TEXT[errno] ?? errno;
}
