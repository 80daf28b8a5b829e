/**
 * The simulator's "server side" lives in one mount namespace: the one where `lustre-sim up` ran.
 * A small keeper process (`sleep infinity`, started by `up`, recorded in the state) keeps that
 * namespace reachable through `/proc/PID/ns/mnt`. Whoever calls `mount.lustre`, exports are
 * (re)started there, and a client in another namespace gets its mount as a clone of the export
 * taken in the server namespace (open_tree) and attached in its own (move_mount). So an export
 * never lives in a client's namespace and never vanishes with it, as a real Lustre server does not.
 *
 * setns(2) of a mount namespace needs a thread that does not share its fs_struct: the calling
 * thread unshares CLONE_FS before each setns, and only synchronous calls run while it is in the server
 * namespace (children it spawns start there too).
 */
import { isAlive, kill } from "./proc.ts";
import type { ServerInfo, SimState } from "./state.ts";

/** Environment variable marking a simulator's keeper process (value: the root). */
export const SERVER_ENV = "LUSTRE_SIM_SERVER";

const CLONE_FS = 0x200;
const CLONE_NEWNS = 0x20000;
const O_RDONLY = 0;
const O_CLOEXEC = 0x80000;
const SYS_OPEN_TREE = 428n;
const SYS_MOVE_MOUNT = 429n;
const OPEN_TREE_CLONE = 1;
const AT_FDCWD = -100;
const MOVE_MOUNT_F_EMPTY_PATH = 4;

const SYMBOLS = {
  unshare: { parameters: ["i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  open_tree: { name: "syscall", parameters: ["i64", "i32", "buffer", "u32"], result: "i64" },
  move_mount: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "i32", "buffer", "u32"],
    result: "i64",
  },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

let libc: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

function sys() {
  libc ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return libc.symbols;
}

function c(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`);
}

function check(call: string, result: number | bigint): number {
  if (Number(result) >= 0) return Number(result);
  const errno = new Deno.UnsafePointerView(sys().__errno_location()!).getInt32();
  throw new Error(`${call} failed: errno ${errno}`);
}

/** The mount namespace of a process ("mnt:[4026532177]"), or null when unreadable. */
export function namespaceOf(pid: number | "thread-self"): string | null {
  try {
    return Deno.readLinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** Starts the keeper of the current mount namespace for the simulator at `root`. */
export function startServer(root: string): ServerInfo {
  const child = new Deno.Command("setsid", {
    args: ["sleep", "infinity"],
    env: { [SERVER_ENV]: root },
    // At "/", so that it keeps no other mount busy.
    cwd: "/",
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  const ns = namespaceOf("thread-self");
  if (ns === null || namespaceOf(child.pid) !== ns) {
    kill(child.pid, "SIGKILL");
    throw new Error("Cannot start the simulator's server keeper process");
  }
  return { pid: child.pid, ns };
}

/** True when the recorded keeper still runs in the recorded namespace. */
export function serverAlive(server: ServerInfo | undefined): server is ServerInfo {
  return server !== undefined && isAlive(server.pid) && namespaceOf(server.pid) === server.ns;
}

/** True when the caller already is in the server namespace (or the state has no server). */
export function inServerAlready(state: SimState): boolean {
  const server = state.runtime.server;
  return server === undefined || namespaceOf("thread-self") === server.ns;
}

function requireServer(state: SimState): ServerInfo {
  const server = state.runtime.server;
  if (!serverAlive(server)) {
    throw new Error(
      `the simulator's server namespace is gone (keeper PID ${state.runtime.server?.pid}); ` +
        `run "lustre-sim down" and "lustre-sim up" again`,
    );
  }
  return server;
}

/**
 * Runs `fn` in the server namespace and comes back (working directory included).
 * `fn` must be synchronous. Without a server in the state, or already there, just runs `fn`.
 * @throws Error when the server's keeper is gone or setns(2) fails
 */
export function inServer<T>(state: SimState, fn: () => T): T {
  if (inServerAlready(state)) return fn();
  const server = requireServer(state);
  const libc = sys();
  // Before every setns: a thread the runtime started from this one since then shares its
  // fs_struct again, and setns(2) would fail with EINVAL.
  check("unshare CLONE_FS", libc.unshare(CLONE_FS));
  const cwd = Deno.cwd();
  const home = check(
    "open own namespace",
    libc.open(c("/proc/thread-self/ns/mnt"), O_RDONLY | O_CLOEXEC),
  );
  try {
    const target = check(
      "open server namespace",
      libc.open(c(`/proc/${server.pid}/ns/mnt`), O_RDONLY | O_CLOEXEC),
    );
    try {
      check("setns server", libc.setns(target, CLONE_NEWNS));
    } finally {
      libc.close(target);
    }
    try {
      return fn();
    } finally {
      check("unshare CLONE_FS", libc.unshare(CLONE_FS));
      check("setns back", libc.setns(home, CLONE_NEWNS));
      try {
        Deno.chdir(cwd);
      } catch {
        // the directory is not there in our own namespace: stay at "/"
      }
    }
  } finally {
    libc.close(home);
  }
}

/**
 * Mounts server path `from` (a directory of an export) at `target` in the caller's namespace:
 * a clone taken in the server namespace, attached here. Non-recursive, like `mount --bind`.
 * @throws Error when the clone or the attach fails
 */
export function attachFromServer(state: SimState, from: string, target: string): void {
  const libc = sys();
  const tree = inServer(state, () =>
    check(
      `open_tree "${from}"`,
      libc.open_tree(SYS_OPEN_TREE, AT_FDCWD, c(from), OPEN_TREE_CLONE | O_CLOEXEC),
    ));
  try {
    check(
      `move_mount "${target}"`,
      libc.move_mount(SYS_MOVE_MOUNT, tree, c(""), AT_FDCWD, c(target), MOVE_MOUNT_F_EMPTY_PATH),
    );
  } finally {
    libc.close(tree);
  }
}
