/**
 * Opens a directory below a trusted directory without following any
 * symlink, as an O_PATH file descriptor: openat2(2) with RESOLVE_BENEATH and
 * RESOLVE_NO_SYMLINKS, or, on kernels without openat2, one openat(2) with
 * O_NOFOLLOW per path component. Runs in the mount worker thread (the calls
 * may touch Lustre); the caller binds from or onto /proc/self/fd/N.
 */

/** The libc symbols the resolver calls. */
export const BENEATH_SYMBOLS = {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  openat: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  readlinkat: { parameters: ["i32", "buffer", "buffer", "u64"], result: "i64" },
  syscall: { parameters: ["i64", "i64", "buffer", "buffer", "u64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The opened libc functions. */
export type BeneathLibc = Deno.DynamicLibrary<typeof BENEATH_SYMBOLS>["symbols"];

const X86 = Deno.build.arch === "x86_64";
/** O_DIRECTORY differs between x86_64 and arm64. */
export const O_DIRECTORY = X86 ? 0o200000 : 0o40000;
const O_NOFOLLOW = X86 ? 0o400000 : 0o100000;
export const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const SYS_OPENAT2 = 437;
const ENOTDIR = 20;
const EXDEV = 18;
const ELOOP = 40;
const EAGAIN = 11;
const ENOSYS = 38;
const EPERM = 1;

/** O_PATH|O_DIRECTORY|O_CLOEXEC: a directory handle that reads nothing. */
export const PATH_FLAGS = O_PATH | O_DIRECTORY | O_CLOEXEC;

/** A file descriptor, or the errno of the step that failed. */
export type Opened = { fd: number; errno: 0 } | { fd: -1; errno: number };

const encoder = new TextEncoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${text}\0`);
}

function errno(libc: BeneathLibc): number {
  return new Deno.UnsafePointerView(libc.__errno_location()!).getInt32();
}

/** Opens a trusted directory (symlinks followed) as an O_PATH handle. */
export function openTrusted(libc: BeneathLibc, path: string): Opened {
  const fd = libc.open(cString(path), PATH_FLAGS);
  return fd >= 0 ? { fd, errno: 0 } : { fd: -1, errno: errno(libc) };
}

/**
 * Opens `relative` (components separated by "/", "" for the root itself)
 * below `rootFd`: ELOOP when a component is a symlink, EXDEV when it would
 * leave the root, ENOENT, ENOTDIR.
 */
export function openBeneath(
  libc: BeneathLibc,
  rootFd: number,
  relative: string,
  options: { readonly useOpenat2?: boolean } = {},
): Opened {
  const parts = relative.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return { fd: -1, errno: EXDEV };
  if (options.useOpenat2 ?? true) {
    const how = new BigUint64Array([
      BigInt(PATH_FLAGS),
      0n,
      BigInt(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS),
    ]);
    const path = cString(parts.length === 0 ? "." : parts.join("/"));
    for (let attempt = 0; attempt < 8; attempt++) {
      const fd = Number(
        libc.syscall(BigInt(SYS_OPENAT2), BigInt(rootFd), path, new Uint8Array(how.buffer), 24n),
      );
      if (fd >= 0) return { fd, errno: 0 };
      const code = errno(libc);
      if (code === EAGAIN) continue; // a concurrent rename: the kernel asks to retry
      // ENOSYS: a kernel before 5.6; EPERM: a seccomp profile that blocks unknown calls.
      if (code !== ENOSYS && code !== EPERM) return { fd: -1, errno: code };
      break;
    }
  }
  return walk(libc, rootFd, parts);
}

/** The per-component fallback: openat(O_PATH|O_NOFOLLOW|O_DIRECTORY) each step. */
function walk(libc: BeneathLibc, rootFd: number, parts: readonly string[]): Opened {
  let current = libc.openat(rootFd, cString("."), PATH_FLAGS);
  if (current < 0) return { fd: -1, errno: errno(libc) };
  for (const part of parts) {
    const name = cString(part);
    const next = libc.openat(current, name, PATH_FLAGS | O_NOFOLLOW);
    const code = next < 0 ? errno(libc) : 0;
    if (next < 0) {
      // O_NOFOLLOW|O_DIRECTORY on a symlink answers ENOTDIR: tell the two apart.
      const isLink = code === ENOTDIR &&
        libc.readlinkat(current, name, new Uint8Array(1), 1n) >= 0n;
      libc.close(current);
      return { fd: -1, errno: isLink ? ELOOP : code };
    }
    libc.close(current);
    current = next;
  }
  return { fd: current, errno: 0 };
}

/** The magic link naming an open file descriptor, for mount(2). */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
