/** A bounded existence check for paths on a mounted file system. */
import { withTimeout } from "../mount/path_health.ts";

/** True when `path` exists (a symlink counts, whatever it points to). */
export async function exists(path: string, timeoutMs: number): Promise<boolean> {
  try {
    await withTimeout(path, timeoutMs, () => Deno.lstat(path));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
