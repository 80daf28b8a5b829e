/**
 * Shared Lustre mounts kept in the keeper namespace (src/mount/mount_namespace.ts):
 * mount.lustre runs there, and the driver's namespace gets a bind of the
 * whole mount at the usual `<stateDir>/mounts/<name>` path. After a restart
 * the keeper still holds the mount, so it is attached again, not remounted.
 */
import type { Logger } from "../log.ts";
import type { Mounter } from "../mount/mounter.ts";
import type { MountKeeper } from "../mount/mount_namespace.ts";
import { mountAt, type MountInfo } from "../mount/mountinfo.ts";
import { type FsGate, gateKey } from "../mount/fs_gate.ts";
import { removeDirectory, unmountCascade } from "../mount/unmount_cascade.ts";
import { LustreMountError } from "../lustre/lustre_mount_error.ts";

/** What the kept-mount steps need. */
export interface KeptMountDeps {
  readonly mounter: Mounter;
  readonly logger: Logger;
  readonly mountTimeoutMs: number;
  readonly unmountTimeoutMs: number;
  readonly checkTimeoutMs: number;
  /** Runs the health checks inside the Lustre mount (bounded, per-mount circuit breaker). */
  readonly gate: FsGate;
  /** Throws when the Lustre client is not usable; checked before mount.lustre runs. */
  readonly clientReady?: () => Promise<void>;
}

/** The keeper's path of the shared mount attached at `path`. */
export function keptPath(keeper: MountKeeper, path: string): string {
  return `${keeper.mountsDir}/${path.slice(path.lastIndexOf("/") + 1)}`;
}

/**
 * Makes `path` show the shared mount: the bind already here if it answers,
 * else the keeper's mount (adopted after a restart) attached again, else a
 * fresh mount.lustre in the keeper, attached.
 * @throws LustreMountError, CommandTimeoutError, MountError
 */
export async function ensureKeptMount(
  deps: KeptMountDeps,
  keeper: MountKeeper,
  mount: { readonly fsSource: string; readonly options: readonly string[]; readonly path: string },
): Promise<MountInfo> {
  const { path, fsSource, options } = mount;
  const kept = keptPath(keeper, path);
  const local = mountAt(await deps.mounter.mountInfo(), path);
  if (local) {
    // A hung mount is not stale: FsNotAnsweringError goes to the caller, no remount.
    const health = await deps.gate.check(gateKey(local), path);
    if (health.healthy) return local;
    deps.logger.warn("Shared Lustre mount {path} is stale, mounting it again: {reason}", {
      path,
      reason: health.reason,
    });
    await releaseKeptMount(deps, keeper, path);
  }
  if (mountAt(await keeper.mountInfo(), kept)) {
    const adopted = await attach(deps, keeper, kept, path);
    const health = await deps.gate.check(gateKey(adopted), path);
    if (health.healthy) {
      deps.logger.info("Adopted shared Lustre mount {path} kept from before a restart", {
        path,
        source: adopted.source,
      });
      return adopted;
    }
    deps.logger.warn("Kept Lustre mount {path} is stale, mounting it again: {reason}", {
      path,
      reason: health.reason,
    });
    await releaseKeptMount(deps, keeper, path);
  }
  await deps.clientReady?.();
  await keeper.mkdir(kept);
  const args = [fsSource, kept, ...(options.length > 0 ? ["-o", options.join(",")] : [])];
  const result = await keeper.run("mount.lustre", args, deps.mountTimeoutMs);
  if (result.code !== 0) {
    await keeper.removeDirectory(kept).catch(() => undefined);
    throw new LustreMountError(fsSource, result.code, result.stderr || result.stdout);
  }
  if (!mountAt(await keeper.mountInfo(), kept)) {
    throw new Error(`mount.lustre "${fsSource}" succeeded but "${kept}" is not a mount`);
  }
  deps.logger.info("Mounted Lustre {source} at {path} in the keeper namespace", {
    source: fsSource,
    path: kept,
    options: options.join(","),
    durationMs: result.durationMs,
  });
  return await attach(deps, keeper, kept, path);
}

/** Detaches the bind at `path` here and unmounts the keeper's mount behind it. */
export async function releaseKeptMount(
  deps: KeptMountDeps,
  keeper: MountKeeper,
  path: string,
): Promise<void> {
  await unmountCascade(deps.mounter, path, deps.unmountTimeoutMs);
  await removeDirectory(path).catch(() => undefined);
  const kept = keptPath(keeper, path);
  await unmountCascade(keeper.mounter, kept, deps.unmountTimeoutMs);
  await keeper.removeDirectory(kept).catch(() => undefined);
}

async function attach(
  deps: KeptMountDeps,
  keeper: MountKeeper,
  kept: string,
  path: string,
): Promise<MountInfo> {
  await Deno.mkdir(path, { recursive: true });
  await keeper.attach(kept, path, deps.checkTimeoutMs);
  const attached = mountAt(await deps.mounter.mountInfo(), path);
  if (!attached) throw new Error(`"${kept}" was attached but "${path}" is not a mount`);
  return attached;
}
