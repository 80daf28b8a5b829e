/**
 * Finds the host's glibc dynamic loader, its libc and its library dirs inside
 * the host's root as mounted in the container (`/host`). Every path is
 * resolved inside that root (resolveInRoot), so the absolute symlinks of
 * Debian and Ubuntu (`/lib64/ld-linux-x86-64.so.2 ->
 * /lib/x86_64-linux-gnu/...`) lead to the host's files, never the image's.
 */
import { type ResolveFs, resolveInRoot, SymlinkLoopError } from "./resolve_in_root.ts";

/** Where each architecture's glibc loader sits, relative to the host's `/`, in search order. */
export const LOADER_CANDIDATES: Readonly<Record<string, readonly string[]>> = {
  x86_64: [
    "lib64/ld-linux-x86-64.so.2",
    "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    "usr/lib64/ld-linux-x86-64.so.2",
    "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
  ],
  aarch64: [
    "lib/ld-linux-aarch64.so.1",
    "lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
    "usr/lib/ld-linux-aarch64.so.1",
    "usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
  ],
};

/** The host's loader and the libraries it is run with; every path lies inside the host root. */
export interface HostLoader {
  readonly loader: string;
  /** The libc.so.6 the loader finds first on `libraryPath`. */
  readonly libc: string;
  /** Existing library dirs: the loader's own dir first, then the configured ones. */
  readonly libraryPath: readonly string[];
}

/** No usable loader (or no libc beside it) inside the host root. */
export class HostLoaderNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HostLoaderNotFoundError";
  }
}

/** Where to look. */
export interface FindHostLoaderOptions {
  readonly hostRoot: string;
  /** Deno.build.arch naming: "x86_64" or "aarch64". */
  readonly arch: string;
  /** Library dirs relative to the host root (from ldLibraryPath), in order. */
  readonly libraryDirs: readonly string[];
}

/**
 * The first loader candidate of the architecture that is a file inside the
 * host root, with libc looked up on its library path.
 * @throws HostLoaderNotFoundError naming each candidate tried and why it failed
 */
export async function findHostLoader(
  options: FindHostLoaderOptions,
  fs?: ResolveFs,
): Promise<HostLoader> {
  const root = options.hostRoot.replace(/\/+$/, "");
  const candidates = LOADER_CANDIDATES[options.arch] ?? [];
  const misses: string[] = [];
  for (const candidate of candidates) {
    const found = await resolveFile(root, candidate, fs);
    if (typeof found !== "string") {
      misses.push(`${root}/${candidate} (${found.reason})`);
      continue;
    }
    const loaderDir = found.slice(root.length, found.lastIndexOf("/"));
    const libraryPath = await existingDirs(root, [loaderDir, ...options.libraryDirs], fs);
    for (const dir of libraryPath) {
      const libc = await resolveFile(root, `${dir.slice(root.length)}/libc.so.6`, fs);
      if (typeof libc === "string") return { loader: found, libc, libraryPath };
    }
    throw new HostLoaderNotFoundError(
      `Found the host's loader ${found} but no libc.so.6 inside "${options.hostRoot}" on its ` +
        `library path ${libraryPath.join(":")}`,
    );
  }
  throw new HostLoaderNotFoundError(
    candidates.length === 0
      ? `No glibc loader is known for architecture "${options.arch}"`
      : `No glibc loader inside "${options.hostRoot}": ${misses.join(", ")}`,
  );
}

/** The resolved file, or why there is none. */
async function resolveFile(
  root: string,
  path: string,
  fs?: ResolveFs,
): Promise<string | { reason: string }> {
  try {
    const resolved = await resolveInRoot(root, path, fs);
    const info = await (fs ?? Deno).lstat(resolved);
    return info.isFile ? resolved : { reason: "not a file" };
  } catch (error) {
    if (error instanceof SymlinkLoopError) return { reason: "symlink loop" };
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return { reason: "not found" };
    }
    return { reason: (error as Error).message };
  }
}

/** The dirs (paths of the host's tree) resolved inside the root: existing ones, once each. */
async function existingDirs(
  root: string,
  dirs: readonly string[],
  fs?: ResolveFs,
): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    try {
      const resolved = await resolveInRoot(root, dir, fs);
      const info = await (fs ?? Deno).lstat(resolved);
      if (info.isDirectory && !found.includes(resolved)) found.push(resolved);
    } catch {
      // missing on this host
    }
  }
  return found;
}
