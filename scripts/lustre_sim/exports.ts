/**
 * The FUSE side of the simulator: every file system is served by a bindfs daemon over its
 * tmpfs, so that killing the daemon (eviction) breaks every mount of it with ENOTCONN.
 */
import { findProcesses, isBindfsFor, kill, run, runOrThrow, sleepMs } from "./proc.ts";
import { isWithin, type MountEntry, readMountInfo } from "./mountinfo.ts";
import { canonicalSource, type ExportInfo, simPaths, type SimState } from "./state.ts";
import { bindExport } from "./encryptable.ts";

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
  if (state.fileSystems.find((f) => f.name === fs)?.encryptable) {
    return bindExport(state, fs, mountPoint, kind);
  }
  // Root squash: what root creates belongs to nobody (65534), and chown is refused.
  const squash = state.faults.rootSquash?.includes(fs)
    ? ["--create-for-user=65534", "--create-for-group=65534", "--chown-deny", "--chgrp-deny"]
    : [];
  runOrThrow("bindfs", [
    ...squash,
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
  // A new instance of a frozen file system is frozen too.
  if (pid && state.faults.frozen?.includes(fs)) stopped([pid], "SIGSTOP");
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
    // Skip recorded exports, and mounts a killed mount.lustre left unrecorded.
    const mounted = new Set(readMountInfo().map((e) => e.mountPoint));
    while (
      state.runtime.exports.some((e) => e.path === paths.export(fs, generation)) ||
      mounted.has(paths.export(fs, generation))
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

/**
 * Stops (SIGSTOP, "freeze") or continues (SIGCONT, "thaw") every daemon serving `fs`, waiting
 * until the kernel shows them stopped or running. While stopped, every file operation on any
 * mount of `fs` blocks in the kernel, like a Lustre client waiting for a down server.
 * Returns the number of daemons signalled.
 */
export function signalExports(state: SimState, fs: string, signal: "SIGSTOP" | "SIGCONT"): number {
  const frozen = (state.faults.frozen ?? []).filter((f) => f !== fs);
  state.faults.frozen = signal === "SIGSTOP" ? [...frozen, fs] : frozen;
  const pids = state.runtime.exports.filter((e) => e.fs === fs && !e.evicted).flatMap((e) =>
    findProcesses((argv) => isBindfsFor(argv, e.path))
  );
  // Also daemons no export records: a mount.lustre killed (e.g. by the driver's mount
  // timeout) while its new instance of a frozen file system blocked it never saved it.
  const source = simPaths(state.runtime.root).tmpfs(fs);
  const unrecorded = findProcesses((argv) =>
    argv[0].endsWith("bindfs") && argv[argv.length - 2] === source
  );
  return stopped([...new Set([...pids, ...unrecorded])], signal);
}

/** Continues every bindfs daemon of the simulator (before `down` unmounts and stops them). */
export function thawAll(srv: string, state: SimState | null): void {
  const pids = findProcesses((argv) =>
    argv[0].endsWith("bindfs") && argv.some((a) => isWithin(a, srv))
  );
  stopped([...new Set([...pids, ...(state?.runtime.exports.map((e) => e.pid) ?? [])])], "SIGCONT");
  if (state) state.faults.frozen = [];
}

/** Sends SIGSTOP or SIGCONT and waits (up to 2 s) until the processes are in that state. */
function stopped(pids: number[], signal: "SIGSTOP" | "SIGCONT"): number {
  const live = pids.filter((pid) => pid > 0 && processState(pid) !== "");
  for (const pid of live) kill(pid, signal);
  const deadline = Date.now() + 2000;
  const done = (pid: number) => {
    const state = processState(pid);
    return state === "" || (signal === "SIGSTOP") === (state === "T");
  };
  while (!live.every(done) && Date.now() < deadline) sleepMs(10);
  return live.length;
}

/** The state letter of a process (R, S, D, T, Z, ...); "" when it is gone. */
function processState(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/stat`).replace(/^.*\) /s, "")[0] ?? "";
  } catch {
    return "";
  }
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
