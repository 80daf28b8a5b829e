/**
 * Counts the driver's shared Lustre mounts (node/shared_mounts.ts keeps them
 * at `<stateDir>/mounts/<fsName>-<hash>`) by file system name, from the
 * mount table.
 */
import type { MountInfo } from "../mount/mountinfo.ts";

/** Mount points directly below `mountsDir`, counted per file system name. */
export function countLustreMounts(
  mounts: readonly MountInfo[],
  mountsDir: string,
): Map<string, number> {
  const points = new Map<string, string>();
  const prefix = `${mountsDir}/`;
  for (const mount of mounts) {
    const rest = mount.mountPoint.startsWith(prefix) ? mount.mountPoint.slice(prefix.length) : "";
    if (rest === "" || rest.includes("/")) continue;
    points.set(mount.mountPoint, fsNameOf(mount.source) ?? fsNameOfDirectory(rest));
  }
  const counts = new Map<string, number>();
  for (const fs of points.values()) counts.set(fs, (counts.get(fs) ?? 0) + 1);
  return counts;
}

/** "fs1" from a Lustre source like `10.0.0.1@tcp:/fs1` or `...:/fs1/sub`. */
export function fsNameOf(source: string): string | undefined {
  const at = source.indexOf(":/");
  if (at < 0) return undefined;
  const name = source.slice(at + 2).split("/")[0];
  return /^[A-Za-z0-9_-]{1,32}$/.test(name) ? name : undefined;
}

/** "fs1" from the shared mount's directory name `fs1-0123456789abcdef`. */
function fsNameOfDirectory(name: string): string {
  return name.replace(/-[0-9a-f]{16}$/, "");
}
