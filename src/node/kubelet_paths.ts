/**
 * Confines staging and target paths to the kubelet directory: a request
 * naming "/etc" as its target must never get a bind mount there.
 */
import { type CallContext, invalidArgument, requirePath } from "../csi/requests.ts";
import type { PathBeneath } from "../mount/mounter.ts";

/**
 * Requires an absolute, normalised path below `kubeletDir`; returns it
 * without a trailing slash.
 * @throws CsiError INVALID_ARGUMENT naming the field and the value
 */
export function requireKubeletPath(
  context: CallContext,
  field: string,
  path: string,
  kubeletDir: string,
): string {
  const checked = requirePath(context, field, path);
  const prefix = kubeletDir === "/" ? "/" : `${kubeletDir}/`;
  if (!checked.startsWith(prefix) || checked === kubeletDir) {
    throw invalidArgument(
      context,
      `"${field}" "${path}" is not below the kubelet directory "${kubeletDir}" ` +
        "(setting kubeletDir): the driver mounts nowhere else",
    );
  }
  return checked;
}

/** A checked path as the kubelet directory (trusted) and the part below it (no symlinks). */
export function belowKubelet(kubeletDir: string, path: string): PathBeneath {
  return { root: kubeletDir, path: path.slice(kubeletDir === "/" ? 1 : kubeletDir.length + 1) };
}
