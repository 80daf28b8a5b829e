/**
 * The FUSE side of the simulator: every file system is served by a bindfs daemon over its
 * tmpfs, so that killing the daemon (eviction) breaks every mount of it with ENOTCONN.
 */
import { findProcesses, isBindfsFor, kill, run, runOrThrow, sleepMs } from "./proc.ts";
import { isWithin, type MountEntry, readMountInfo } from "./mountinfo.ts";
import { canonicalSource, type ExportInfo, simPaths, type SimState } from "./state.ts";

/**
 * Starts a bindfs daemon serving `fs`'s backing store at `mountPoint`.
 * @throws Error when bindfs fails or its mount does not appear
 */
export function startExport(
  state: SimState,
  fs: string,
  mountPoint: string,
  kind: ExportInfo["kind"],
): ExportInfo {
  const paths = simPaths(state.runtime.root);
  Deno.mkdirSync(mountPoint, { recursive: true });
  const fsname = canonicalSource(state, fs);
  runOrThrow("bindfs", [
    "-o",
    `fsname=${fsname},subtype=lustre,dev,suid`,
    paths.tmpfs(fs),
    mountPoint,
  ]);
  const entry = readMountInfo().findLast((e) => e.mountPoint === mountPoint);
  if (!entry) throw new Error(`bindfs did not mount "${mountPoint}"`);
  // Lustre mounts use strictatime unless asked otherwise; binds inherit it.
  runOrThrow("mount", ["-o", "remount,bind,strictatime", mountPoint]);
  const [pid] = findProcesses((argv) => isBindfsFor(argv, mountPoint));
  const info: ExportInfo = {
    fs,
    path: mountPoint,
    pid: pid ?? 0,
    dev: entry.dev,
    kind,
    evicted: false,
  };
  state.runtime.exports.push(info);
  return info;
}

/** The export new mounts of `fs` bind from, restarting it after an eviction. */
export function liveExport(state: SimState, fs: string): ExportInfo {
  const current = state.runtime.exports.find((e) => e.fs === fs && e.kind === "main");
  if (current && !current.evicted) return current;
  let generation = 0;
  if (current) {
    current.kind = "retired";
    const paths = simPaths(state.runtime.root);
    while (
      state.runtime.exports.some((e) => e.path === paths.export(fs, generation))
    ) generation++;
  }
  return startExport(state, fs, simPaths(state.runtime.root).export(fs, generation), "main");
}

/** Kills (SIGKILL) every daemon serving `fs`; its mounts then fail with ENOTCONN. */
export function evictExports(state: SimState, fs: string): number {
  let killed = 0;
  for (const e of state.runtime.exports) {
    if (e.fs !== fs || e.evicted) continue;
    for (const pid of findProcesses((argv) => isBindfsFor(argv, e.path))) {
      kill(pid, "SIGKILL");
      killed++;
    }
    e.evicted = true;
  }
  // Wait until the kernel sees the connection drop.
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const alive = state.runtime.exports.some((e) =>
      e.fs === fs && findProcesses((argv) => isBindfsFor(argv, e.path)).length > 0
    );
    if (!alive) break;
    sleepMs(20);
  }
  return killed;
}

/** Unmounts a mount point: plain, then lazy. Returns false when it is still mounted. */
export function unmount(mountPoint: string): boolean {
  if (run("umount", [mountPoint]).code === 0) return true;
  return run("umount", ["-l", mountPoint]).code === 0;
}

/**
 * Unmounts unique-fsid and retired exports that no client mount uses any more: none here
 * (run it in the server namespace) and none in `callerEntries` (the caller's mount table).
 * Must run under the state lock.
 */
export function collectExports(state: SimState, callerEntries: MountEntry[] = []): void {
  const srv = simPaths(state.runtime.root).srv;
  const here = readMountInfo();
  const entries = [...here, ...callerEntries];
  state.runtime.exports = state.runtime.exports.filter((e) => {
    if (e.kind === "main") return true;
    const used = entries.some((m) => m.dev === e.dev && !isWithin(m.mountPoint, srv));
    if (used) return true;
    if (here.some((m) => m.mountPoint === e.path)) unmount(e.path);
    try {
      Deno.removeSync(e.path);
    } catch {
      // still mounted or not empty: leave it for `down`
    }
    return false;
  });
}
