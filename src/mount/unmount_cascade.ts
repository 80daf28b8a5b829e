/**
 * Unmounts a path that may hang: plain, then MNT_FORCE, then MNT_DETACH,
 * each on its own timer, then removes the directory with rmdir only.
 */
import { type Mounter, type UnmountMode } from "./mounter.ts";
import { mountAt } from "./mountinfo.ts";

/** What the cascade did. */
export interface CascadeResult {
  /** The step that left the path unmounted, or "none" if it was not mounted. */
  readonly step: UnmountMode | "none";
  readonly errors: readonly string[];
}

const STEPS: readonly UnmountMode[] = ["plain", "force", "lazy"];

/**
 * The steps for a bind of a shared mount (staging and target paths): no
 * MNT_FORCE, which aborts the calls of every user of the file system's
 * superblock (Lustre's and FUSE's umount_begin), not only this bind's.
 */
export const BIND_STEPS: readonly UnmountMode[] = ["plain", "lazy"];

/**
 * Unmounts every mount stacked at `path`.
 * @throws Error when even the lazy unmount fails
 */
export async function unmountCascade(
  mounter: Mounter,
  path: string,
  stepTimeoutMs: number,
  steps: readonly UnmountMode[] = STEPS,
): Promise<CascadeResult> {
  const errors: string[] = [];
  let step: UnmountMode | "none" = "none";
  for (let layer = 0; layer < 16; layer++) {
    if (!mountAt(await mounter.mountInfo(), path)) return { step, errors };
    let done = false;
    for (const mode of steps) {
      try {
        await mounter.unmount(path, mode, stepTimeoutMs);
        step = mode;
        done = true;
        break;
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    if (!done) throw new Error(`Cannot unmount "${path}": ${errors.join("; ")}`);
  }
  throw new Error(`Cannot unmount "${path}": more than 16 mounts are stacked on it`);
}

/**
 * Removes an empty directory (rmdir); a missing one is fine. Never deletes
 * contents, and never a file.
 * @throws Error when the path is not a directory or not empty
 */
export async function removeDirectory(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isDirectory) throw new Error(`Cannot remove "${path}": it is not a directory`);
  await Deno.remove(path);
}
