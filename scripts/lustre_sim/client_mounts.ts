/**
 * Maps paths and mountinfo entries to simulated Lustre mounts: which file system, which
 * client instance, and where the data lives in the backing store.
 */
import {
  findContainingMount,
  formatDev,
  isWithin,
  type MountEntry,
  readMountInfo,
} from "./mountinfo.ts";
import type { ClientMount, ExportInfo, SimState } from "./state.ts";
import { simPaths } from "./state.ts";

/** A path resolved onto a simulated file system. */
export interface SimLocation {
  fs: string;
  /** The mountinfo entry holding the path. */
  mount: MountEntry;
  /** Path inside the file system, starting with "/". */
  fsPath: string;
  /** The same object in the backing tmpfs. */
  dataPath: string;
  /** The client instance (`ffff...`), "" when the path is not under a client mount. */
  instance: string;
}

/** Error with an errno, for stand-ins to print and exit with. */
export class ErrnoError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

const ERRNO: Record<string, [number, string]> = {
  NotFound: [2, "No such file or directory"],
  PermissionDenied: [13, "Permission denied"],
  NotADirectory: [20, "Not a directory"],
  NotConnected: [107, "Transport endpoint is not connected"],
};

/** errno and strerror text of a Deno error. */
export function describeError(e: unknown): [number, string] {
  if (e instanceof ErrnoError) return [e.errno, e.message];
  if (e instanceof Error) {
    const named = ERRNO[e.name];
    if (named) return named;
    const m = /os error (\d+)/.exec(e.message);
    if (m) {
      const text = e.message.replace(/ \(os error \d+\).*$/, "").replace(/:.*$/, "");
      return [Number(m[1]), text];
    }
    return [5, e.message];
  }
  return [5, String(e)];
}

/** mountinfo entries of simulated file systems outside the simulator's own tree. */
export function clientEntries(state: SimState, entries = readMountInfo()): MountEntry[] {
  const devs = new Set(state.runtime.exports.map((e) => e.dev));
  const srv = simPaths(state.runtime.root).srv;
  return entries.filter((m) => devs.has(m.dev) && !isWithin(m.mountPoint, srv));
}

/** The export a device belongs to. */
export function exportOfDev(state: SimState, dev: string): ExportInfo | undefined {
  return state.runtime.exports.find((e) => e.dev === dev);
}

/**
 * The client mount record a mountinfo entry belongs to: its own record, else (a bind mount
 * made by someone else) the latest record of the same device whose root contains it,
 * preferring records whose own mount is still there.
 */
export function recordOf(
  state: SimState,
  entry: MountEntry,
  all: MountEntry[] = readMountInfo(),
): ClientMount | undefined {
  const exact = state.runtime.mounts.find((m) =>
    m.mountId === entry.id && m.target === entry.mountPoint
  );
  if (exact) return exact;
  const candidates = state.runtime.mounts.filter((m) =>
    m.dev === entry.dev && isWithin(entry.root, `/${m.fs}${m.subdir ? `/${m.subdir}` : ""}`)
  );
  const alive = candidates.filter((m) =>
    all.some((e) => e.id === m.mountId && e.mountPoint === m.target)
  );
  return alive[alive.length - 1] ?? candidates[candidates.length - 1];
}

/**
 * Resolves a path onto a simulated file system.
 * @throws ErrnoError ENOTTY-style (25) when the path is not on a simulated Lustre, or the
 * stat error (ENOENT, ENOTCONN after eviction, ...)
 */
export function locate(state: SimState, path: string): SimLocation {
  const real = Deno.realPathSync(path);
  const dev = formatDev(Deno.statSync(real).dev);
  const exp = exportOfDev(state, dev);
  const all = readMountInfo();
  const mount = findContainingMount(all.filter((m) => m.dev === dev), real);
  if (!exp || !mount) throw new ErrnoError(25, "Inappropriate ioctl for device");
  // Paths inside the export; the file system's root is its directory `/<fsname>`.
  const exportPath = joinFsPath(mount.root, real.slice(mount.mountPoint.length));
  const fsRoot = `/${exp.fs}`;
  const fsPath = isWithin(exportPath, fsRoot) ? exportPath.slice(fsRoot.length) || "/" : exportPath;
  const record = recordOf(state, mount, all);
  return {
    fs: exp.fs,
    mount,
    fsPath,
    dataPath: simPaths(state.runtime.root).tmpfs(exp.fs) + (exportPath === "/" ? "" : exportPath),
    instance: record?.instance ?? "",
  };
}

function joinFsPath(root: string, rest: string): string {
  const joined = `${root}/${rest}`.replace(/\/+/g, "/");
  return joined.length > 1 && joined.endsWith("/") ? joined.slice(0, -1) : joined;
}

/** Client mount records whose instance is still reachable through some mount. */
export function liveInstances(state: SimState): ClientMount[] {
  const live = new Map<string, ClientMount>();
  const all = readMountInfo();
  for (const entry of clientEntries(state, all)) {
    const record = recordOf(state, entry, all);
    if (record) live.set(`${record.fs}-${record.instance}`, record);
  }
  return [...live.values()].sort((a, b) => a.startMs - b.startMs);
}

/** Drops records of instances no mount reaches any more. Run under the state lock. */
export function pruneRecords(state: SimState): void {
  const live = new Set(liveInstances(state));
  state.runtime.mounts = state.runtime.mounts.filter((m) => live.has(m));
}

/** A fresh instance string like `ffff8881a2b3c000`. */
export function newInstance(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `ffff88${hex}`;
}
