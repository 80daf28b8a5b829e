/**
 * Worker thread that makes mount system calls through libc. Running them
 * here keeps a call that hangs in the kernel off the main event loop, and
 * lets errno be read on the thread that set it.
 */
/// <reference lib="deno.worker" />
import { BENEATH_SYMBOLS, fdPath, openBeneath, type Opened, openTrusted } from "./_beneath.ts";

const libc = Deno.dlopen("libc.so.6", {
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  ...BENEATH_SYMBOLS,
});

const encoder = new TextEncoder();
const MS_BIND = 4096;
const MS_MOVE = 8192;
const MNT_DETACH = 2;
const EINVAL = 22;

function cString(text: string | null): Uint8Array<ArrayBuffer> | null {
  return text === null ? null : encoder.encode(`${text}\0`);
}

/** A directory below a trusted one: `root` is opened normally, `path` without symlinks. */
export interface BeneathRequestPath {
  readonly root: string;
  readonly path: string;
}

/** A request from SystemMounter. */
export type SyscallRequest =
  | { op: "mount"; source: string | null; target: string; fsType: string | null; flags: number }
  | { op: "umount2"; target: string; flags: number }
  | {
    op: "bindBeneath";
    source: BeneathRequestPath;
    target: BeneathRequestPath;
    /** Where a bind with flags is prepared before it is moved; null binds directly. */
    scratch: string | null;
    /** MS_BIND|MS_REMOUNT|flags for the remount at `scratch`. */
    remountFlags: number;
    useOpenat2: boolean;
  }
  | {
    op: "replaceBeneath";
    source: BeneathRequestPath;
    target: BeneathRequestPath;
    /** Where the new bind is made and flagged before it replaces the target's mount. */
    scratch: string;
    /** MS_BIND|MS_REMOUNT|flags for the remount at `scratch`. */
    remountFlags: number;
    useOpenat2: boolean;
  };

/** Which step of bindBeneath or replaceBeneath failed. */
export type BeneathStep = "source" | "target" | "bind" | "remount" | "detach" | "move";

/** The answer: result and errno (0 on success), and for bindBeneath the failed step. */
export interface SyscallReply {
  result: number;
  errno: number;
  step?: BeneathStep;
}

function errno(): number {
  return new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
}

function mount(source: string | null, target: string, flags: number): number {
  const result = libc.symbols.mount(cString(source), cString(target)!, null, BigInt(flags), null);
  return result === 0 ? 0 : errno();
}

/** Opens directories below their roots without symlinks, recording each fd in `fds`. */
function opener(fds: number[], useOpenat2: boolean): (where: BeneathRequestPath) => Opened {
  return (where) => {
    const root = openTrusted(libc.symbols, where.root);
    if (root.fd < 0) return root;
    fds.push(root.fd);
    const opened = openBeneath(libc.symbols, root.fd, where.path, { useOpenat2 });
    if (opened.fd >= 0) fds.push(opened.fd);
    return opened;
  };
}

function fail(step: BeneathStep, code: number): SyscallReply {
  return { result: -1, errno: code, step };
}

/** Opens both directories, binds, and closes them: nothing re-walks a path a user controls. */
function bindBeneath(request: Extract<SyscallRequest, { op: "bindBeneath" }>): SyscallReply {
  const fds: number[] = [];
  const open = opener(fds, request.useOpenat2);
  try {
    const source = open(request.source);
    if (source.fd < 0) return fail("source", source.errno);
    const target = open(request.target);
    if (target.fd < 0) return fail("target", target.errno);
    const scratch = request.scratch;
    if (scratch === null) {
      const code = mount(fdPath(source.fd), fdPath(target.fd), MS_BIND);
      return code === 0 ? { result: 0, errno: 0 } : fail("bind", code);
    }
    const bound = mount(fdPath(source.fd), scratch, MS_BIND);
    if (bound !== 0) return fail("bind", bound);
    const remounted = mount(null, scratch, request.remountFlags);
    const moved = remounted === 0 ? mount(scratch, fdPath(target.fd), MS_MOVE) : 0;
    if (remounted === 0 && moved === 0) return { result: 0, errno: 0 };
    libc.symbols.umount2(cString(scratch)!, MNT_DETACH);
    return remounted !== 0 ? fail("remount", remounted) : fail("move", moved);
  } finally {
    for (const fd of fds) libc.symbols.close(fd);
  }
}

/**
 * Mount-first replacement of whatever is mounted at the target: the new bind
 * is made and flagged at the scratch point first; only then is the target's
 * mount detached (lazily) and the new one moved onto the target, two calls
 * in a row. A failure before the detach leaves the target as it was.
 */
function replaceBeneath(request: Extract<SyscallRequest, { op: "replaceBeneath" }>): SyscallReply {
  const fds: number[] = [];
  const open = opener(fds, request.useOpenat2);
  const scratch = cString(request.scratch)!;
  try {
    const source = open(request.source);
    if (source.fd < 0) return fail("source", source.errno);
    // The mount now at the target (or the bare directory): checked before anything changes.
    const old = open(request.target);
    if (old.fd < 0) return fail("target", old.errno);
    const bound = mount(fdPath(source.fd), request.scratch, MS_BIND);
    if (bound !== 0) return fail("bind", bound);
    const undo = (step: BeneathStep, code: number) => {
      libc.symbols.umount2(scratch, MNT_DETACH);
      return fail(step, code);
    };
    const remounted = mount(null, request.scratch, request.remountFlags);
    if (remounted !== 0) return undo("remount", remounted);
    // EINVAL: the target is no mount's root (nothing mounted there), nothing to detach.
    if (libc.symbols.umount2(cString(fdPath(old.fd))!, MNT_DETACH) !== 0) {
      const code = errno();
      if (code !== EINVAL) return undo("detach", code);
    }
    const target = open(request.target);
    if (target.fd < 0) return undo("target", target.errno);
    const moved = mount(request.scratch, fdPath(target.fd), MS_MOVE);
    return moved === 0 ? { result: 0, errno: 0 } : undo("move", moved);
  } finally {
    for (const fd of fds) libc.symbols.close(fd);
  }
}

self.onmessage = (event: MessageEvent<SyscallRequest>) => {
  const request = event.data;
  if (request.op === "bindBeneath") {
    self.postMessage(bindBeneath(request));
    return;
  }
  if (request.op === "replaceBeneath") {
    self.postMessage(replaceBeneath(request));
    return;
  }
  const result = request.op === "mount"
    ? libc.symbols.mount(
      cString(request.source),
      cString(request.target)!,
      cString(request.fsType),
      BigInt(request.flags),
      null,
    )
    : libc.symbols.umount2(cString(request.target)!, request.flags);
  const code = result === 0 ? 0 : errno();
  self.postMessage({ result, errno: code } satisfies SyscallReply);
};
