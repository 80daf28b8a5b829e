/**
 * Worker thread (one OS thread) that lives in the keeper mount namespace:
 * a namespace made from the host's, pinned by a bind of its nsfs file on
 * the host so it outlives the driver's container. It unshares CLONE_FS so
 * that setns(2) affects this thread only, then serves requests: run a host
 * tool in the keeper, read the keeper's or the host's mount table, unmount
 * in the keeper, and attach a keeper directory as a bind in the driver's
 * own namespace (open_tree + move_mount). Every request is synchronous, so
 * the thread is always back in the keeper when the next one starts.
 */
/// <reference lib="deno.worker" />

import { spawnBounded } from "../exec/spawn_bounded.ts";
import { unescapeOctal } from "./mountinfo.ts";

const libc = Deno.dlopen("libc.so.6", {
  unshare: { parameters: ["i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  open_tree: { name: "syscall", parameters: ["i64", "i32", "buffer", "u32"], result: "i64" },
  move_mount: {
    name: "syscall",
    parameters: ["i64", "i32", "buffer", "i32", "buffer", "u32"],
    result: "i64",
  },
  __errno_location: { parameters: [], result: "pointer" },
  sched_getaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
  sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
});

const CLONE_FS = 0x200;
const CLONE_NEWNS = 0x20000;
const O_RDONLY = 0;
const O_CLOEXEC = 0x80000;
const MS_BIND = 4096;
const MS_MOVE = 8192;
const MS_REC = 16384;
const MS_PRIVATE = 1 << 18;
const MNT_DETACH = 2;
const EINVAL = 22;
/** Copies of these host mounts are dropped from a new keeper. */
const DROPPED_TYPES = new Set(["lustre", "overlay"]);
const UMOUNT_NOFOLLOW = 8;
const SYS_OPEN_TREE = 428n;
const SYS_MOVE_MOUNT = 429n;
const OPEN_TREE_CLONE = 1;
const AT_FDCWD = -100;
const MOVE_MOUNT_F_EMPTY_PATH = 4;

/** Settings sent with the first request. */
export interface KeeperSetup {
  /** nsfs file of the host's mount namespace (e.g. /proc/1/ns/mnt). */
  readonly hostNamespace: string;
  /** Host directory holding the pin; made a private mount on the host. */
  readonly keeperDir: string;
  /** Host path of the kubelet directory: the keeper drops its copy. */
  readonly kubeletDir: string;
}

/** A request to the worker. */
export type KeeperRequest =
  | { op: "init"; setup: KeeperSetup }
  | { op: "run"; command: string; args: string[]; pathEnv: string; timeoutMs: number }
  | { op: "mountinfo"; where: "keeper" | "host" }
  | { op: "attach"; from: string; to: string }
  | { op: "move"; from: string; to: string }
  | { op: "umount"; target: string; flags: number }
  | { op: "mkdir"; path: string }
  | { op: "rmdir"; path: string };

/** The answer to one request. */
export type KeeperReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string; errno?: number; kind?: "timeout" | "not-found" };

/** What a `run` request returns. */
export interface KeeperRunResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

const encoder = new TextEncoder();
let hostFd = -1;
let homeFd = -1;
let keeperFd = -1;

function c(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${text}\0`);
}

function errno(): number {
  return new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32();
}

class SyscallError extends Error {
  constructor(readonly call: string, readonly errno: number) {
    super(`${call} failed: errno ${errno}`);
  }
}

function check(call: string, result: number | bigint): number {
  if (Number(result) < 0) throw new SyscallError(call, errno());
  return Number(result);
}

function openNs(path: string): number {
  return check(`open "${path}"`, libc.symbols.open(c(path), O_RDONLY | O_CLOEXEC));
}

function enter(fd: number, what: string): void {
  check(`setns ${what}`, libc.symbols.setns(fd, CLONE_NEWNS));
}

function mount(source: string | null, target: string, flags: number): void {
  check(
    `mount "${target}"`,
    libc.symbols.mount(source === null ? null : c(source), c(target), null, BigInt(flags), null),
  );
}

function mountPoints(): string[] {
  return Deno.readTextFileSync("/proc/thread-self/mountinfo").split("\n")
    .filter((l) => l).map((l) => l.split(" ")[4]);
}

/** Joins the pinned keeper, or makes and pins a new one; true when made. */
function init(setup: KeeperSetup): boolean {
  homeFd = openNs("/proc/thread-self/ns/mnt");
  check("unshare CLONE_FS", libc.symbols.unshare(CLONE_FS));
  hostFd = openNs(setup.hostNamespace);
  enter(hostFd, "host");
  const pin = `${setup.keeperDir}/ns`;
  try {
    const fd = openNs(pin);
    if (libc.symbols.setns(fd, CLONE_NEWNS) === 0) {
      keeperFd = fd;
      return false;
    }
    libc.symbols.close(fd);
  } catch {
    // no pin yet
  }
  Deno.mkdirSync(setup.keeperDir, { recursive: true, mode: 0o700 });
  if (!mountPoints().includes(setup.keeperDir)) mount(setup.keeperDir, setup.keeperDir, MS_BIND);
  mount(null, setup.keeperDir, MS_PRIVATE);
  Deno.writeTextFileSync(pin, "");
  // The kernel refuses to bind the file of a namespace whose ID is not above
  // the host's (a loop guard), and IDs come from per-CPU batches: so make the
  // keeper on each allowed CPU in turn until its pin holds.
  const allowed = new Uint8Array(128);
  check("sched_getaffinity", libc.symbols.sched_getaffinity(0, BigInt(allowed.length), allowed));
  const cpus = [
    -1,
    ...[...Array(allowed.length * 8).keys()].filter((cpu) =>
      (allowed[cpu >> 3] & (1 << (cpu & 7))) !== 0
    ),
  ];
  try {
    for (const cpu of cpus) {
      if (cpu >= 0) {
        const one = new Uint8Array(allowed.length);
        one[cpu >> 3] = 1 << (cpu & 7);
        if (libc.symbols.sched_setaffinity(0, BigInt(one.length), one) !== 0) continue;
      }
      const fd = makeKeeper(setup.kubeletDir);
      enter(hostFd, "host");
      try {
        mount(`/proc/thread-self/fd/${fd}`, pin, MS_BIND);
        keeperFd = fd;
        enter(keeperFd, "keeper");
        return true;
      } catch (error) {
        libc.symbols.close(fd);
        if ((error as SyscallError).errno !== EINVAL) throw error;
      }
    }
  } finally {
    libc.symbols.sched_setaffinity(0, BigInt(allowed.length), allowed);
  }
  throw new Error(`Cannot pin a keeper mount namespace at "${pin}" on any CPU (EINVAL)`);
}

/** From the host: a new mount namespace, private, without the kubelet dir; returns its fd. */
function makeKeeper(kubeletDir: string): number {
  check("unshare CLONE_NEWNS", libc.symbols.unshare(CLONE_NEWNS));
  // Nothing made here may reach the host, and copies of pods' binds, of
  // containers' root file systems and of the host's own Lustre mounts must
  // not keep those file systems busy here.
  mount(null, "/", MS_REC | MS_PRIVATE);
  libc.symbols.umount2(c(kubeletDir), MNT_DETACH);
  for (const line of Deno.readTextFileSync("/proc/thread-self/mountinfo").split("\n")) {
    const fields = line.split(" ");
    const point = unescapeOctal(fields[4] ?? "/");
    if (point !== "/" && DROPPED_TYPES.has(fields[fields.indexOf("-") + 1])) {
      libc.symbols.umount2(c(point), MNT_DETACH);
    }
  }
  return openNs("/proc/thread-self/ns/mnt");
}

/** Attaches keeper path `from` as a bind at `to` in the driver's namespace. */
function attach(from: string, to: string): void {
  const tree = check(
    `open_tree "${from}"`,
    libc.symbols.open_tree(SYS_OPEN_TREE, AT_FDCWD, c(from), OPEN_TREE_CLONE | O_CLOEXEC),
  );
  try {
    enter(homeFd, "home");
    try {
      check(
        `move_mount "${to}"`,
        libc.symbols.move_mount(
          SYS_MOVE_MOUNT,
          tree,
          c(""),
          AT_FDCWD,
          c(to),
          MOVE_MOUNT_F_EMPTY_PATH,
        ),
      );
    } finally {
      enter(keeperFd, "keeper");
    }
  } finally {
    libc.symbols.close(tree);
  }
}

/** Runs a program found on `pathEnv` as seen from the keeper. */
async function run(
  request: { command: string; args: string[]; pathEnv: string; timeoutMs: number },
): Promise<KeeperRunResult | "timeout" | "not-found"> {
  const program = request.pathEnv.split(":").filter((d) => d).map((d) => `${d}/${request.command}`)
    .find((p) => {
      try {
        const info = Deno.statSync(p);
        return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
      } catch {
        return false;
      }
    });
  if (!program) return "not-found";
  // Spawned from this thread, so the child runs in the keeper namespace.
  const result = await spawnBounded(program, request.args, {
    env: { PATH: request.pathEnv },
    clearEnv: true,
    timeoutMs: request.timeoutMs,
  });
  return "timeout" in result ? "timeout" : result;
}

function readMountInfo(where: "keeper" | "host"): string {
  if (where === "keeper") return Deno.readTextFileSync("/proc/thread-self/mountinfo");
  enter(hostFd, "host");
  try {
    return Deno.readTextFileSync("/proc/thread-self/mountinfo");
  } finally {
    enter(keeperFd, "keeper");
  }
}

async function handle(request: KeeperRequest): Promise<unknown> {
  if (request.op !== "init" && keeperFd < 0) throw new Error("keeper namespace not joined");
  switch (request.op) {
    case "init":
      return init(request.setup);
    case "run":
      return await run(request);
    case "mountinfo":
      return readMountInfo(request.where);
    case "attach":
      return attach(request.from, request.to);
    case "move":
      return mount(request.from, request.to, MS_MOVE);
    case "umount": {
      const result = libc.symbols.umount2(c(request.target), request.flags | UMOUNT_NOFOLLOW);
      return result === 0 ? 0 : errno();
    }
    case "mkdir":
      return Deno.mkdirSync(request.path, { recursive: true });
    case "rmdir":
      try {
        return Deno.removeSync(request.path);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        throw error;
      }
  }
}

self.onmessage = async (event: MessageEvent<KeeperRequest & { id: number }>) => {
  const { id } = event.data;
  try {
    const value = await handle(event.data);
    if (value === "timeout" || value === "not-found") {
      self.postMessage({ id, ok: false, error: value, kind: value } satisfies KeeperReply);
    } else self.postMessage({ id, ok: true, value } satisfies KeeperReply);
  } catch (error) {
    self.postMessage(
      {
        id,
        ok: false,
        error: (error as Error).message,
        errno: error instanceof SyscallError ? error.errno : undefined,
      } satisfies KeeperReply,
    );
  }
};
