/**
 * NodeGetVolumeStats figures: the volume's usage, limited by its project
 * quota when it has one, and its condition. A mount that does not answer is
 * an abnormal condition, not an error.
 */
import { VolumeUsage_Unit } from "../csi/gen/csi_pb.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import { type FsGate, FsNotAnsweringError } from "../mount/fs_gate.ts";
import type { FsUsage } from "../mount/path_health.ts";
import { SingleFlight } from "../single_flight.ts";
import { type ProjectQuota, readProjectId, readProjectQuota } from "../lustre/project_quota.ts";

/** How long a volume path's project ID is reused: it does not change while a volume is mounted. */
const PROJECT_ID_TTL_MS = 10 * 60 * 1000;
/**
 * How long one statfs(2) of a mount answers for every volume on it: the
 * figures are the file system's, the same through every bind of the mount.
 */
export const USAGE_TTL_MS = 2_000;

/** What VolumeStats needs. */
export interface VolumeStatsDeps {
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Runs the file system calls on the volume's path. */
  readonly gate: FsGate;
  /** Bound of each lfs command. */
  readonly timeoutMs: number;
}

/** Usage figures and condition of a volume, as NodeGetVolumeStats answers them. */
export interface VolumeStatsAnswer {
  readonly usage: { unit: VolumeUsage_Unit; total: bigint; used: bigint; available: bigint }[];
  readonly volumeCondition: { abnormal: boolean; message: string };
}

/** Measures mounted volumes, caching each path's project ID. */
export class VolumeStats {
  readonly #deps: VolumeStatsDeps;
  /** Project IDs by volume path. */
  readonly #projectIds = new Map<string, { value: Promise<number | undefined>; at: number }>();
  /** statfs figures by mount key, shared by the volumes on that mount. */
  readonly #usage = new Map<string, { value: Promise<FsUsage>; at: number }>();
  /**
   * Project quota reads by volume path, shared by the calls that come while
   * one runs; not kept after: an expansion (by the controller, which the
   * node is not told of) shows in the next stats.
   */
  readonly #quotas = new SingleFlight<ProjectQuota>();

  constructor(deps: VolumeStatsDeps) {
    this.#deps = deps;
  }

  /**
   * Usage and condition of the volume mounted at `path` from the mount
   * `key` (gateKey); never throws for a dead or hung mount.
   */
  async measure(path: string, key: string): Promise<VolumeStatsAnswer> {
    const { gate } = this.#deps;
    try {
      const health = await gate.check(key, path);
      if (!health.healthy) return abnormal(`Lustre mount is not answering: ${health.reason}`);
      const usage = await this.#mountUsage(key, path);
      const quota = await this.#projectQuota(path);
      return {
        usage: [
          { unit: VolumeUsage_Unit.BYTES, ...limitedBytes(usage, quota) },
          { unit: VolumeUsage_Unit.INODES, ...limitedInodes(usage, quota) },
        ],
        volumeCondition: { abnormal: false, message: "Volume is mounted and answering" },
      };
    } catch (error) {
      if (error instanceof FsNotAnsweringError) return abnormal(error.message);
      return abnormal(`Lustre mount is not answering: ${(error as Error).message}`);
    }
  }

  /** Drops the cached project ID of `path` (the volume leaves it). */
  forget(path: string): void {
    this.#projectIds.delete(path);
  }

  /** One statfs of the mount `key` per USAGE_TTL_MS, shared by the calls meanwhile. */
  #mountUsage(key: string, path: string): Promise<FsUsage> {
    return cached(this.#usage, key, USAGE_TTL_MS, () => this.#deps.gate.usage(key, path));
  }

  /** The project quota of a volume directory, when it has one (dynamic volumes). */
  async #projectQuota(path: string): Promise<ProjectQuota | undefined> {
    const { runner, timeoutMs } = this.#deps;
    try {
      const id = await cached(
        this.#projectIds,
        path,
        PROJECT_ID_TTL_MS,
        () => readProjectId(runner, path, timeoutMs),
      );
      if (id === undefined) return undefined;
      return await this.#quotas.run(
        `${path}\0${id}`,
        () => readProjectQuota(runner, path, id, timeoutMs),
      );
    } catch (error) {
      this.#deps.logger.debug("No project quota for {path}: {reason}", {
        path,
        reason: (error as Error).message,
      });
      return undefined;
    }
  }
}

/**
 * The value of `key` in `cache` while younger than `ttlMs`, else a fresh
 * `load()` (shared by the calls that come while it runs); a failed load is
 * not kept.
 */
function cached<T>(
  cache: Map<string, { value: Promise<T>; at: number }>,
  key: string,
  ttlMs: number,
  load: () => Promise<T>,
): Promise<T> {
  const now = performance.now(); // monotonic: a clock step cannot pin or drop entries
  // Entries are kept in the order they were loaded: the expired ones come first.
  for (const [k, entry] of cache) {
    if (now - entry.at < ttlMs) break;
    cache.delete(k);
  }
  const hit = cache.get(key);
  if (hit) return hit.value;
  const value = load();
  cache.set(key, { value, at: now });
  value.catch(() => {
    if (cache.get(key)?.value === value) cache.delete(key);
  });
  return value;
}

/**
 * An abnormal condition. kubelet drops a stats answer without usage, so the
 * figures are zeros rather than absent.
 */
function abnormal(message: string): VolumeStatsAnswer {
  const zero = { total: 0n, used: 0n, available: 0n };
  return {
    usage: [{ unit: VolumeUsage_Unit.BYTES, ...zero }, { unit: VolumeUsage_Unit.INODES, ...zero }],
    volumeCondition: { abnormal: true, message },
  };
}

function limitedBytes(u: FsUsage, quota: ProjectQuota | undefined) {
  return limited(u.totalBytes, u.usedBytes, u.availableBytes, quota?.limitBytes, quota?.usedBytes);
}

function limitedInodes(u: FsUsage, quota: ProjectQuota | undefined) {
  return limited(u.totalInodes, u.usedInodes, u.freeInodes, quota?.limitInodes, quota?.usedInodes);
}

/**
 * Usage figures, limited by a project quota when one is set: the quota is
 * the size, and what is available never exceeds what the file system has.
 */
function limited(total: number, used: number, available: number, limit = 0, quotaUsed = 0) {
  if (limit <= 0) {
    return { total: BigInt(total), used: BigInt(used), available: BigInt(available) };
  }
  const free = Math.max(0, Math.min(limit - quotaUsed, available));
  return { total: BigInt(limit), used: BigInt(quotaUsed), available: BigInt(free) };
}
