/**
 * The host's own mount table (the DaemonSet has hostPID, so /proc/1 is the
 * host's init): a node's fstab mount of a Lustre file system is invisible in
 * the driver's namespace but kubelet sees it when it unstages.
 */
import type { Logger } from "../log.ts";
import { type MountInfo, parseMountInfo } from "../mount/mountinfo.ts";
import { isLustreSource, parseLustreSource } from "../lustre/source.ts";

/** Largest mount table read (a node with many pods has thousands of mounts). */
const MAX_MOUNTINFO_BYTES = 16 * 1024 * 1024;

/** What readHostMounts needs. */
export interface HostMountsOptions {
  /** The host's mountinfo file; "" when it is not read. */
  readonly path: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Reads the host's mount table, bounded in time and size. A table that
 * cannot be read gives no mounts and a warning: staging goes on with the
 * driver's own view only, as before this check existed.
 */
export async function readHostMounts(options: HostMountsOptions): Promise<MountInfo[]> {
  if (options.path === "") return [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`it did not answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    return parseMountInfo(await Promise.race([readBounded(options.path), timeout]));
  } catch (error) {
    options.logger.warn(
      "Cannot read the host's mount table {path}, host mounts of Lustre are not seen: {error}",
      { path: options.path, error: (error as Error).message },
    );
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a text file of at most MAX_MOUNTINFO_BYTES.
 * @throws RangeError when it is larger
 */
async function readBounded(path: string): Promise<string> {
  using file = await Deno.open(path);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  for (let n = await file.read(buffer); n !== null; n = await file.read(buffer)) {
    total += n;
    if (total > MAX_MOUNTINFO_BYTES) {
      throw new RangeError(`it is larger than ${MAX_MOUNTINFO_BYTES} bytes`);
    }
    chunks.push(buffer.slice(0, n));
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

/** What a host mount must match to block a staging bind. */
export interface HostCollisionQuery {
  /** The shared mount the volume would be bound from. */
  readonly shared: MountInfo;
  /** The root the staging bind would have (shared root + volume directory). */
  readonly root: string;
  /** The volume's file system name. */
  readonly fsName: string;
  /** Mount points to skip: the driver's and kubelet's own (seen in the driver's table). */
  readonly skip: (mountPoint: string) => boolean;
}

/**
 * The host mount kubelet would match with the staging bind (same device and
 * root, as kubelet's GetDeviceMountRefs does) that is a Lustre mount of the
 * same file system, if any.
 */
export function findHostCollision(
  hostMounts: readonly MountInfo[],
  query: HostCollisionQuery,
): MountInfo | undefined {
  return hostMounts.find((m) =>
    m.root === query.root && m.major === query.shared.major &&
    m.minor === query.shared.minor && isLustreSource(m.source) &&
    parseLustreSource(m.source).fsName === query.fsName && !query.skip(m.mountPoint)
  );
}
