/**
 * The node's two binds, made so that no path a user controls is followed:
 * the volume's directory (below the shared Lustre mount) onto the staging
 * path, and the staging path onto a pod's target. Both are opened without
 * symlinks by Mounter.bindBeneath, and the new mount is then checked in the
 * mount table: it must show the intended directory of the intended device,
 * or it is undone.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CallContext } from "../csi/requests.ts";
import { beneathText, type Mounter, type MountFlag, PathBeneathError } from "../mount/mounter.ts";
import { mountAt, type MountInfo } from "../mount/mountinfo.ts";
import type { SharedMount } from "./shared_mounts.ts";
import type { VolumeSpec } from "./volume_spec.ts";
import { belowKubelet } from "./kubelet_paths.ts";
import { joinRoot } from "./paths.ts";

/** What both binds need. */
export interface SafeBindDeps {
  readonly mounter: Mounter;
  readonly kubeletDir: string;
  readonly unmountTimeoutMs: number;
}

/**
 * Binds the volume's directory from `mount` onto `staging`; with `replace`,
 * mount-first over what is mounted there (a stale staging mount stays
 * until the new bind is ready, see Mounter.replaceBeneath).
 * @throws CsiError NOT_FOUND (no such directory), INVALID_ARGUMENT (a symlink on the way, not a directory), FAILED_PRECONDITION (the mount shows something else)
 */
export async function bindVolumeDirectory(
  deps: SafeBindDeps,
  request: {
    readonly volumeId: string;
    readonly mount: SharedMount;
    readonly spec: VolumeSpec;
    readonly staging: string;
    readonly flags: readonly MountFlag[];
    readonly replace?: boolean;
  },
): Promise<void> {
  const { volumeId, mount, spec, staging } = request;
  const context = { action: "stage", volumeId };
  const mounter = deps.mounter;
  try {
    await (request.replace ? mounter.replaceBeneath : mounter.bindBeneath).call(
      mounter,
      { root: mount.path, path: spec.dir },
      belowKubelet(deps.kubeletDir, staging),
      request.flags,
    );
  } catch (error) {
    if (!(error instanceof PathBeneathError)) throw error;
    if (error.which === "target") throw targetError(context, "stagingTargetPath", error);
    throw volumeDirectoryError(volumeId, spec, error);
  }
  await verifyBind(deps, context, staging, () => ({
    major: mount.info.major,
    minor: mount.info.minor,
    root: joinRoot(mount.info.root, spec.dir),
  }));
}

/**
 * Binds the staging mount `staged` at `staging` onto `target`.
 * @throws CsiError INVALID_ARGUMENT (a symlink on the way), FAILED_PRECONDITION
 */
export async function bindStagedVolume(
  deps: SafeBindDeps,
  request: {
    readonly context: CallContext;
    readonly staging: string;
    readonly staged: MountInfo;
    readonly target: string;
    readonly flags: readonly MountFlag[];
  },
): Promise<void> {
  const { context, staging, staged, target } = request;
  try {
    await deps.mounter.bindBeneath(
      belowKubelet(deps.kubeletDir, staging),
      belowKubelet(deps.kubeletDir, target),
      request.flags,
    );
  } catch (error) {
    if (!(error instanceof PathBeneathError)) throw error;
    throw targetError(
      context,
      error.which === "source" ? "stagingTargetPath" : "targetPath",
      error,
    );
  }
  // The staging mount as it shows now: a rename of the volume's directory changes its root text.
  await verifyBind(deps, context, target, (mounts) => mountAt(mounts, staging) ?? staged);
}

/** What a new mount must show. */
interface Expected {
  readonly major: number;
  readonly minor: number;
  readonly root: string;
}

/** The new mount at `path` must show the expected device and root; otherwise it is undone. */
async function verifyBind(
  deps: SafeBindDeps,
  context: CallContext,
  path: string,
  expectedIn: (mounts: readonly MountInfo[]) => Expected,
): Promise<void> {
  const mounts = await deps.mounter.mountInfo();
  const expected = expectedIn(mounts);
  const made = mountAt(mounts, path);
  if (
    made && made.major === expected.major && made.minor === expected.minor &&
    made.root === expected.root
  ) {
    return;
  }
  if (made) await deps.mounter.unmount(path, "lazy", deps.unmountTimeoutMs).catch(() => undefined);
  const shown = made ? `"${made.root}" of device ${made.major}:${made.minor}` : "nothing";
  throw new CsiError(
    Code.FAILED_PRECONDITION,
    `Cannot ${context.action} volume "${context.volumeId}" at "${path}": the new mount shows ` +
      `${shown}, not "${expected.root}" of device ${expected.major}:${expected.minor} (was a ` +
      "path changed while it was mounted?); it was undone",
  );
}

function volumeDirectoryError(volumeId: string, spec: VolumeSpec, error: PathBeneathError) {
  const what = `Cannot stage volume "${volumeId}": directory "${spec.dir}"`;
  const fs = `"${spec.source.fsSource}"`;
  const options = { cause: error };
  switch (error.errno) {
    case "ENOENT":
      return new CsiError(Code.NOT_FOUND, `${what} does not exist in ${fs}`, options);
    case "ENOTDIR":
      return new CsiError(Code.INVALID_ARGUMENT, `${what} in ${fs} is not a directory`, options);
    case "ELOOP":
    case "EXDEV":
      return new CsiError(
        Code.INVALID_ARGUMENT,
        `${what} of ${fs} leads through a symlink; the driver follows none (it could lead ` +
          "outside the volume)",
        options,
      );
    default:
      return error;
  }
}

function targetError(context: CallContext, field: string, error: PathBeneathError) {
  const path = beneathText(error.where);
  const what = `Cannot ${context.action} volume "${context.volumeId}": "${field}" "${path}"`;
  switch (error.errno) {
    case "ELOOP":
    case "EXDEV":
      return new CsiError(
        Code.INVALID_ARGUMENT,
        `${what} leads through a symlink; the driver follows none below the kubelet directory`,
        { cause: error },
      );
    case "ENOENT":
    case "ENOTDIR":
      return new CsiError(
        Code.FAILED_PRECONDITION,
        `${what} is not a directory (it changed while the volume was being mounted?)`,
        { cause: error },
      );
    default:
      return error;
  }
}
