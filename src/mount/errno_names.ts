/** Names of the errno values file system calls on Linux answer with. */

const NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  4: "EINTR",
  5: "EIO",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  16: "EBUSY",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  22: "EINVAL",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  40: "ELOOP",
  107: "ENOTCONN",
  108: "ESHUTDOWN",
  110: "ETIMEDOUT",
  116: "ESTALE",
};

/** The errno's name, e.g. "ENOENT"; "errno N" for one not listed. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}
