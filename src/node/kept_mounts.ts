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

/** Suffix of the path where a stale shared mount's replacement is mounted first. */
export const REPLACEMENT_SUFFIX = ".next";

/**
 * Makes `path` show the shared mount: the bind already here if it answers,
 * else the keeper's mount (adopted after a restart) attached again, else a
 * fresh mount.lustre in the keeper, attached. A stale mount is replaced
 * mount-first: it stays until its replacement is mounted.
 * @throws LustreMountError, CommandTimeoutError, MountError
 */
export async function ensureKeptMount(
  deps: KeptMountDeps,
  keeper: MountKeeper,
  mount: { readonly fsSource: string; readonly options: readonly string[]; readonly path: string },
): Promise<MountInfo> {
  const { path } = mount;
  const kept = keptPath(keeper, path);
  const local = mountAt(await deps.mounter.mountInfo(), path);
  if (local) {
    // A hung mount is not stale: FsNotAnsweringError goes to the caller, no remount.
    const health = await deps.gate.check(gateKey(local), path);
    if (health.healthy) return local;
    deps.logger.warn("Shared Lustre mount {path} is stale, mounting its replacement: {reason}", {
      path,
      reason: health.reason,
    });
    return await replaceKeptMount(deps, keeper, mount);
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
    deps.logger.warn("Kept Lustre mount {path} is stale, mounting its replacement: {reason}", {
      path,
      reason: health.reason,
    });
    return await replaceKeptMount(deps, keeper, mount);
  }
  await mountInKeeper(deps, keeper, mount.fsSource, mount.options, kept);
  return await attach(deps, keeper, kept, path);
}

/**
 * Mounts the replacement of a stale shared mount beside it in the keeper;
 * only then releases the stale one and moves the replacement in.
 * @throws LustreMountError (the stale mount stays), CommandTimeoutError, MountError
 */
async function replaceKeptMount(
  deps: KeptMountDeps,
  keeper: MountKeeper,
  mount: { readonly fsSource: string; readonly options: readonly string[]; readonly path: string },
): Promise<MountInfo> {
  const kept = keptPath(keeper, mount.path);
  const next = `${kept}${REPLACEMENT_SUFFIX}`;
  await unmountCascade(keeper.mounter, next, deps.unmountTimeoutMs); // a crashed attempt's
  await mountInKeeper(deps, keeper, mount.fsSource, mount.options, next);
  await releaseKeptMount(deps, keeper, mount.path);
  await keeper.mkdir(kept);
  await keeper.move(next, kept, deps.checkTimeoutMs);
  await keeper.removeDirectory(next).catch(() => undefined);
  return await attach(deps, keeper, kept, mount.path);
}

/** Runs mount.lustre in the keeper at `at`. */
async function mountInKeeper(
  deps: KeptMountDeps,
  keeper: MountKeeper,
  fsSource: string,
  options: readonly string[],
  at: string,
): Promise<void> {
  await deps.clientReady?.();
  await keeper.mkdir(at);
  const args = [fsSource, at, ...(options.length > 0 ? ["-o", options.join(",")] : [])];
  const result = await keeper.run("mount.lustre", args, deps.mountTimeoutMs);
  if (result.code !== 0) {
    await keeper.removeDirectory(at).catch(() => undefined);
    throw new LustreMountError(fsSource, result.code, result.stderr || result.stdout);
  }
  if (!mountAt(await keeper.mountInfo(), at)) {
    throw new Error(`mount.lustre "${fsSource}" succeeded but "${at}" is not a mount`);
  }
  deps.logger.info("Mounted Lustre {source} at {path} in the keeper namespace", {
    source: fsSource,
    path: at,
    options: options.join(","),
    durationMs: result.durationMs,
  });
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
