/**
 * Encryptable file systems of the simulator: the data lives on an ext4 image made with
 * `-O encrypt` and mounted through a loop device (`mount -o loop`, so unmounting it frees the
 * device), and the export is a plain bind of it instead of a bindfs daemon. FUSE does not pass
 * the fscrypt ioctls on, and a bind does: the driver's FS_IOC_* calls on a client mount reach
 * the kernel's real fscrypt code, the same interface Lustre's client encryption implements.
 *
 * Differences from Lustre: keys live per superblock, and every client mount of the file system
 * (in any mount namespace, so on every simulated "node") is a bind of the one ext4 superblock;
 * a key added on one node is therefore visible on all of them until it is removed. Eviction and
 * freeze faults do not apply (no daemon to kill or stop).
 */
import { readMountInfo } from "./mountinfo.ts";
import { runOrThrow } from "./proc.ts";
import type { ExportInfo, FileSystemConfig, SimState } from "./state.ts";

/** Makes `DIR/srv/FS/image.ext4` (the file system's size) and mounts it at `at`. */
export function mountEncryptable(root: string, fs: FileSystemConfig, at: string): void {
  const image = `${root}/srv/${fs.name}/image.ext4`;
  runOrThrow("truncate", ["-s", fs.size.toUpperCase(), image]);
  runOrThrow("mkfs.ext4", [
    "-q",
    "-F",
    "-O",
    "encrypt",
    "-N",
    String(fs.inodes),
    "-L",
    fs.name,
    image,
  ]);
  runOrThrow("mount", ["-o", "loop", image, at]);
}

/** Serves an encryptable `fs` at `mountPoint` with a bind of its ext4 mount. */
export function bindExport(
  state: SimState,
  fs: string,
  mountPoint: string,
  kind: ExportInfo["kind"],
): ExportInfo {
  const source = `${state.runtime.root}/srv/${fs}/backing store`;
  Deno.mkdirSync(mountPoint, { recursive: true });
  runOrThrow("mount", ["--bind", source, mountPoint]);
  runOrThrow("mount", ["-o", "remount,bind,strictatime", mountPoint]);
  const entry = readMountInfo().findLast((e) => e.mountPoint === mountPoint);
  if (!entry) throw new Error(`bind of "${source}" did not appear at "${mountPoint}"`);
  const info: ExportInfo = { fs, path: mountPoint, pid: 0, dev: entry.dev, kind, evicted: false };
  state.runtime.exports.push(info);
  return info;
}
