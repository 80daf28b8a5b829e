/**
 * Deletes a directory tree without ever leaving `inside`: before a
 * directory is read and before each batch of unlinks, its real path (every
 * symlink resolved) must be the path the walk built from names it listed,
 * below `inside`; a directory swapped for a symlink is refused and left as
 * it is. Symlinks are unlinked, never followed. Unlinks run `parallel` at a
 * time.
 */
import { withTimeout } from "../mount/path_health.ts";

/** What a removal did. */
export interface RemovedCount {
  files: number;
  bytes: number;
}

/** Options of removeTree. */
export interface RemoveTreeOptions {
  /** The folder nothing outside of which is ever touched (the trash). */
  readonly inside: string;
  /** Unlinks in flight at once. */
  readonly parallel: number;
  /** Bounds each file operation. */
  readonly timeoutMs: number;
  /** Told after each batch, for progress metrics. */
  readonly onProgress?: (count: RemovedCount) => void;
  /** Stops between batches when aborted. */
  readonly signal?: AbortSignal;
}

type Bounded = <T>(path: string, work: () => Promise<T>) => Promise<T>;

/**
 * Removes `path` (below `options.inside`) and everything in it; a missing
 * path is fine, a file or symlink is unlinked.
 * @throws Error when a directory moved out from under the walk (it is left as it is)
 */
export async function removeTree(path: string, options: RemoveTreeOptions): Promise<RemovedCount> {
  if (!path.startsWith(`${options.inside}/`)) {
    throw new Error(`${path} is not inside ${options.inside}; refusing to delete it`);
  }
  const count: RemovedCount = { files: 0, bytes: 0 };
  const bounded: Bounded = (p, work) => withTimeout(p, options.timeoutMs, work);
  let info: Deno.FileInfo;
  try {
    info = await bounded(path, () => Deno.lstat(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return count;
    throw error;
  }
  if (info.isDirectory) await clear(path, count, options, bounded);
  await bounded(path, () => Deno.remove(path)).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  return count;
}

/** Fails unless `dir` is really where the walk thinks it is; false when it is gone. */
async function confirm(
  dir: string,
  options: RemoveTreeOptions,
  bounded: Bounded,
): Promise<boolean> {
  let real: string;
  try {
    real = await bounded(dir, () => Deno.realPath(dir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  if (real !== dir || !real.startsWith(`${options.inside}/`)) {
    throw new Error(`${dir} resolves to ${real}, not itself: left as it is`);
  }
  return true;
}

/** Empties directory `dir`. */
async function clear(
  dir: string,
  count: RemovedCount,
  options: RemoveTreeOptions,
  bounded: Bounded,
): Promise<void> {
  for (;;) {
    // Gone meanwhile (another purger, e.g. the other replica's): nothing left to do here.
    if (!(await confirm(dir, options, bounded))) return;
    // Read a batch of names, unlink them, read again: a huge directory never sits in memory whole.
    const names: string[] = [];
    try {
      await bounded(dir, async () => {
        for await (const entry of Deno.readDir(dir)) {
          names.push(entry.name);
          if (names.length >= 4096) break;
        }
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    if (names.length === 0) return;
    options.signal?.throwIfAborted();
    if (!(await confirm(dir, options, bounded))) return;
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++];
        const path = `${dir}/${name}`;
        const seen = await bounded(path, () => Deno.lstat(path)).catch(() => undefined);
        if (!seen) continue;
        if (seen.isDirectory) await clear(path, count, options, bounded);
        if (seen.isFile) count.bytes += seen.size;
        // Deno.remove unlinks a symlink itself; a directory is removed only once empty.
        await bounded(path, () => Deno.remove(path)).then(
          () => void count.files++,
          (error) => {
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          },
        );
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.parallel) }, worker));
    options.onProgress?.(count);
  }
}
