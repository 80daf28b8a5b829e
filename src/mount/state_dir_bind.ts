/**
 * The state directory's bind mount on itself, which start-up makes so the
 * directory can be a private mount (docs/install.md, "Why the state
 * directory is not Bidirectional"). In the DaemonSet the directory is
 * already a mount (its hostPath volume) and nothing is bound; run on a host,
 * the bind is undone at a clean exit, unless mounts below it (staged
 * volumes, the keeper's pin) still need it. A bind is undone when this
 * process made it, or when it is a plain self-bind (the same directory of
 * the same file system its parent mount shows there, e.g. left by a crash
 * or by another process sharing the directory): removing that changes
 * nothing one can see. Any other mount there (a file system of its own, a
 * hostPath volume) is left alone.
 */
import type { Logger } from "../log.ts";
import type { Mounter } from "./mounter.ts";
import { mountAt, type MountInfo } from "./mountinfo.ts";

/** What the bind's owner needs. */
export interface StateDirBindDeps {
  readonly mounter: Pick<Mounter, "mountInfo" | "unmount">;
  readonly logger: Logger;
  readonly stateDir: string;
  readonly timeoutMs: number;
}

/** Whether this process made the state directory's bind, and undoing it. */
export class StateDirBind {
  readonly #deps: StateDirBindDeps;
  readonly #wasMounted: boolean;

  private constructor(deps: StateDirBindDeps, wasMounted: boolean) {
    this.#deps = deps;
    this.#wasMounted = wasMounted;
  }

  /** Notes, before start-up prepares the state directory, whether it is a mount already. */
  static async before(deps: StateDirBindDeps): Promise<StateDirBind> {
    const mounts = await deps.mounter.mountInfo();
    return new StateDirBind(deps, mountAt(mounts, deps.stateDir) !== undefined);
  }

  /**
   * Unmounts the bind when this process made it and nothing is mounted
   * below it; a failure is logged, not thrown (the exit goes on).
   * Resolves with what happened.
   */
  async release(): Promise<"released" | "kept" | "not-ours"> {
    const { mounter, logger, stateDir, timeoutMs } = this.#deps;
    try {
      const mounts = await mounter.mountInfo();
      const mount = mountAt(mounts, stateDir);
      if (!mount || this.#wasMounted && !isSelfBind(mount, mounts)) return "not-ours";
      const below = mounts.filter((m) => m.mountPoint.startsWith(`${stateDir}/`));
      if (below.length > 0) {
        logger.info(
          "Kept the bind mount of the state directory {stateDir}: {count} mounts below it remain",
          { stateDir, count: below.length, mounts: below.map((m) => m.mountPoint).join(" ") },
        );
        return "kept";
      }
      await mounter.unmount(stateDir, "plain", timeoutMs);
      logger.debug("Unmounted the bind mount of the state directory {stateDir}", { stateDir });
      return "released";
    } catch (error) {
      logger.warn("Cannot unmount the bind mount of the state directory {stateDir}: {error}", {
        stateDir,
        error: (error as Error).message,
      });
      return "kept";
    }
  }
}

/** True when `mount` shows the directory its parent mount shows at the same place. */
export function isSelfBind(mount: MountInfo, mounts: readonly MountInfo[]): boolean {
  const parent = mounts.find((m) => m.id === mount.parentId);
  if (!parent || parent.major !== mount.major || parent.minor !== mount.minor) return false;
  const under = parent.mountPoint === "/" ? "/" : `${parent.mountPoint}/`;
  if (!mount.mountPoint.startsWith(under)) return false;
  const relative = mount.mountPoint.slice(under.length);
  const expected = parent.root === "/" ? `/${relative}` : `${parent.root}/${relative}`;
  return mount.root === expected;
}
