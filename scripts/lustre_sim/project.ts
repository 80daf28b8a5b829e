/**
 * Project IDs without kernel support: a `user.lustre_sim.project` xattr ("ID:P" or "ID:-") on
 * files and directories of the backing tmpfs. An entry without the attribute takes its
 * parent's value when the parent has the inherit flag (as it would have at creation), else
 * project 0. Before a directory's value changes, its children without an attribute get
 * their current value written, so only what lfs touched changes.
 */
import { getXattr, removeXattr, setXattr } from "./xattr.ts";

export const PROJECT_XATTR = "user.lustre_sim.project";

/** A project ID and the PROJINHERIT flag. */
export interface Project {
  id: number;
  inherit: boolean;
}

export const NO_PROJECT: Readonly<Project> = Object.freeze({ id: 0, inherit: false });

/** The attribute stored on `dataPath`, or null when it has none. */
export function ownProject(dataPath: string): Project | null {
  const raw = getXattr(dataPath, PROJECT_XATTR);
  const m = raw === null ? null : /^(\d+):([P-])$/.exec(raw);
  return m ? { id: Number(m[1]), inherit: m[2] === "P" } : null;
}

/** The value a child gets from its parent's effective value. */
export function inherited(parent: Project): Project {
  return parent.inherit ? { ...parent } : { ...NO_PROJECT };
}

/** Effective value of an entry given its parent's effective value. */
export function effectiveProject(dataPath: string, parent: Project): Project {
  return ownProject(dataPath) ?? inherited(parent);
}

/** Effective value of `fsPath` (e.g. `/a/b`), walking down from the backing root. */
export function projectOf(backing: string, fsPath: string): Project {
  let current = ownProject(backing) ?? { ...NO_PROJECT };
  let path = backing;
  for (const part of fsPath.split("/").filter((p) => p !== "")) {
    path = `${path}/${part}`;
    current = effectiveProject(path, current);
  }
  return current;
}

/** Writes `value` on `dataPath`, first pinning the current value of its children. */
export function writeProject(dataPath: string, current: Project, value: Project): void {
  let isDir = false;
  try {
    isDir = Deno.lstatSync(dataPath).isDirectory;
  } catch {
    // written below, which reports the error
  }
  if (isDir) {
    for (const child of Deno.readDirSync(dataPath)) {
      const childPath = `${dataPath}/${child.name}`;
      if (child.isSymlink || ownProject(childPath) !== null) continue;
      const was = inherited(current);
      setXattr(childPath, PROJECT_XATTR, formatProject(was));
    }
  }
  setXattr(dataPath, PROJECT_XATTR, formatProject(value));
}

/** Drops the attribute (tests and cleanup). */
export function clearProject(dataPath: string): void {
  removeXattr(dataPath, PROJECT_XATTR);
}

function formatProject(p: Project): string {
  return `${p.id}:${p.inherit ? "P" : "-"}`;
}

/** Usage of one quota ID: KiB allocated and inode count. */
export interface Usage {
  kbytes: number;
  inodes: number;
}

/**
 * Walks a whole backing store and sums usage per project, user and group ID
 * (keys `p:ID`, `u:ID`, `g:ID`).
 */
export function sumUsage(backing: string): Map<string, Usage> {
  const usage = new Map<string, Usage>();
  const add = (key: string, kbytes: number) => {
    const u = usage.get(key) ?? { kbytes: 0, inodes: 0 };
    u.kbytes += kbytes;
    u.inodes += 1;
    usage.set(key, u);
  };
  const visit = (path: string, project: Project) => {
    const st = Deno.lstatSync(path);
    const kbytes = Math.ceil((st.blocks ?? 0) / 2);
    add(`p:${project.id}`, kbytes);
    add(`u:${st.uid}`, kbytes);
    add(`g:${st.gid}`, kbytes);
    if (!st.isDirectory) return;
    for (const child of Deno.readDirSync(path)) {
      const childPath = `${path}/${child.name}`;
      visit(childPath, child.isSymlink ? inherited(project) : effectiveProject(childPath, project));
    }
  };
  visit(backing, ownProject(backing) ?? { ...NO_PROJECT });
  return usage;
}
