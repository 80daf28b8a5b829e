/**
 * Resolves a path inside a directory tree as if that tree were `/`, the way
 * `chroot` or `openat2(RESOLVE_IN_ROOT)` would: absolute symlink targets
 * restart at the root, relative ones at the link's directory, and ".." never
 * climbs above the root. Used to find the host's files under `/host`, where
 * the host's absolute symlinks would otherwise lead into the image.
 */

/** Symlinks followed at most in one resolution, as Linux's MAXSYMLINKS. */
export const MAX_SYMLINKS = 40;

/** Too many symlinks followed (a loop): errno ELOOP. */
export class SymlinkLoopError extends Error {
  readonly code = "ELOOP";
  constructor(root: string, path: string) {
    super(`Cannot resolve "${path}" inside "${root}": more than ${MAX_SYMLINKS} symlinks (ELOOP)`);
    this.name = "SymlinkLoopError";
  }
}

/** The file-system calls the resolver makes; tests may replace them. */
export interface ResolveFs {
  readonly lstat: (
    path: string,
  ) => Promise<{ isSymlink: boolean; isFile: boolean; isDirectory: boolean }>;
  readonly readLink: (path: string) => Promise<string>;
}

const REAL_FS: ResolveFs = { lstat: Deno.lstat, readLink: Deno.readLink };

/**
 * The path, under `root`, that `path` (read as a path of the tree at `root`,
 * with or without a leading "/") names once every symlink is followed inside
 * the tree. The result always starts with `root` and names no symlink.
 * @throws Deno.errors.NotFound (or NotADirectory) when a component is missing,
 *   SymlinkLoopError after MAX_SYMLINKS links
 */
export async function resolveInRoot(
  root: string,
  path: string,
  fs: ResolveFs = REAL_FS,
): Promise<string> {
  const base = root.replace(/\/+$/, "");
  const pending = path.split("/");
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    const candidate = `${base}/${[...resolved, part].join("/")}`;
    if (!(await fs.lstat(candidate)).isSymlink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new SymlinkLoopError(root, path);
    const target = await fs.readLink(candidate);
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...target.split("/"));
  }
  return resolved.length === 0 ? (base === "" ? "/" : base) : `${base}/${resolved.join("/")}`;
}

/** `path` relative to `root` when it lies under it ("" for the root), else undefined. */
export function pathUnderRoot(root: string, path: string): string | undefined {
  const base = root.replace(/\/+$/, "");
  if (path === base) return "";
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : undefined;
}
