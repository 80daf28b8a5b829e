/**
 * Path helpers of the node handlers: the pod's target directory and the
 * mountinfo roots a bound directory shows.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CallContext } from "../csi/requests.ts";

/**
 * Creates the target directory if needed; returns whether it was created.
 * @throws CsiError INVALID_ARGUMENT, FAILED_PRECONDITION
 */
export async function ensureTargetDirectory(
  context: CallContext,
  target: string,
): Promise<boolean> {
  // mkdir first: kubelet leaves the target to the driver, so it is usually missing.
  try {
    await Deno.mkdir(target);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot ${context.action} volume "${context.volumeId}": the parent of "targetPath" "${target}" does not exist`,
        { cause: error },
      );
    }
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const info = await Deno.lstat(target).catch(() => undefined);
  if (info && !info.isDirectory) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot ${context.action} volume "${context.volumeId}": "targetPath" "${target}" exists and is not a directory`,
    );
  }
  return false;
}

/** The mountinfo root a directory shows when bound from a mount whose root is `base`. */
export function joinRoot(base: string, dir: string): string {
  if (dir === "/") return base;
  return base === "/" ? dir : `${base}${dir}`;
}

/**
 * A staging root matches a directory when it ends with it (dir starts with
 * "/", so the match is at a segment boundary). The shared mount's own root
 * ("/" on Lustre) prefixes it.
 */
export function rootMatches(root: string, dir: string): boolean {
  return dir === "/" || root.endsWith(dir);
}
