/**
 * Path helpers of the node handlers: the volume's directory inside a shared
 * mount, the pod's target directory, and the mountinfo roots a bound
 * directory shows.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CallContext } from "../csi/requests.ts";
import type { FsGate } from "../mount/fs_gate.ts";
import type { VolumeSpec } from "./volume_spec.ts";

/**
 * The real path of the volume's directory inside the shared mount; it must
 * exist, be a directory and stay inside the file system.
 * @throws CsiError NOT_FOUND, INVALID_ARGUMENT
 */
export async function requireVolumeDirectory(
  mountPath: string,
  spec: VolumeSpec,
  options: {
    readonly volumeId: string;
    readonly timeoutMs: number;
    /** Runs the calls inside the mount; `key` names the mount (gateKey). */
    readonly gate: FsGate;
    readonly key: string;
  },
): Promise<string> {
  const { volumeId, gate, key } = options;
  const dir = spec.dir;
  const wanted = dir === "/" ? mountPath : `${mountPath}${dir}`;
  let real: string;
  try {
    real = await gate.realPath(key, wanted);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CsiError(
        Code.NOT_FOUND,
        `Cannot stage volume "${volumeId}": directory "${dir}" does not exist in "${spec.source.fsSource}"`,
        { cause: error },
      );
    }
    throw error;
  }
  if (real !== mountPath && !real.startsWith(`${mountPath}/`)) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot stage volume "${volumeId}": directory "${dir}" leads outside "${spec.source.fsSource}" through a symlink`,
    );
  }
  const info = await gate.stat(key, real);
  if (!info.isDirectory) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot stage volume "${volumeId}": "${dir}" in "${spec.source.fsSource}" is not a directory`,
    );
  }
  return real;
}

/**
 * Creates the target directory if needed; returns whether it was created.
 * @throws CsiError INVALID_ARGUMENT, FAILED_PRECONDITION
 */
export async function ensureTargetDirectory(
  context: CallContext,
  target: string,
): Promise<boolean> {
  const info = await Deno.lstat(target).catch(() => undefined);
  if (info?.isDirectory) return false;
  if (info) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot ${context.action} volume "${context.volumeId}": "targetPath" "${target}" exists and is not a directory`,
    );
  }
  try {
    await Deno.mkdir(target);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot ${context.action} volume "${context.volumeId}": the parent of "targetPath" "${target}" does not exist`,
        { cause: error },
      );
    }
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    return false;
  }
  return true;
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
