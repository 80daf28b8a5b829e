/**
 * What the kubelet does around a CSI node plugin, for tests: the paths it
 * uses, a shared kubelet directory (as on a real node, so that mounts made
 * by the driver in its own mount namespace propagate back), and its unstage
 * check (GetDeviceMountRefs + HasMountRefs) applied to /proc/self/mountinfo.
 */
import { createHash } from "node:crypto";
import { parseMountInfo } from "../../src/mount/mountinfo.ts";
import { DRIVER_NAME } from "../../src/version.ts";

/** Makes `dir` a shared mount of itself, like /var/lib/kubelet on a node. */
export async function makeSharedKubeletDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await sh("mount", ["--bind", dir, dir]);
  await sh("mount", ["--make-shared", dir]);
}

/** Kubelet's staging path of a volume handle; created as kubelet creates it. */
export async function stagingPath(kubeletDir: string, volumeHandle: string): Promise<string> {
  const sha = createHash("sha256").update(volumeHandle).digest("hex");
  const path = `${kubeletDir}/plugins/kubernetes.io/csi/${DRIVER_NAME}/${sha}/globalmount`;
  await mkdirAll(path);
  return path;
}

/** Kubelet's target path of a pod's volume; its parent exists, the target does not. */
export async function targetPath(
  kubeletDir: string,
  podUid: string,
  pvName: string,
): Promise<string> {
  const parent = `${kubeletDir}/pods/${podUid}/volumes/kubernetes.io~csi/${pvName}`;
  await mkdirAll(parent);
  return `${parent}/mount`;
}

/**
 * Kubelet's refusal to unstage: the other mount points with the staging
 * mount's root and device that do not contain its plugin path. Empty means
 * kubelet would call NodeUnstageVolume.
 */
export async function unstageBlockers(stagingPath: string): Promise<string[]> {
  const mounts = parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo"));
  let staged;
  for (let i = mounts.length - 1; i >= 0; i--) {
    const m = mounts[i];
    if (stagingPath === m.mountPoint || stagingPath.startsWith(`${m.mountPoint}/`)) {
      staged = m;
      break;
    }
  }
  if (!staged) throw new Error(`No mount holds "${stagingPath}"`);
  const root = staged.mountPoint === stagingPath
    ? staged.root
    : `${staged.root}${stagingPath.slice(staged.mountPoint.length)}`;
  const refs = mounts.filter((m) =>
    m.id !== staged.id && m.root === root && m.major === staged.major && m.minor === staged.minor
  ).map((m) => m.mountPoint);
  const marker = "/plugins/kubernetes.io/";
  const index = stagingPath.indexOf(marker);
  const pathToFind = index >= 0 ? stagingPath.slice(index) : stagingPath;
  return refs.filter((ref) => !ref.includes(pathToFind));
}

/** mkdir -p that, like kubelet, accepts an existing path it cannot stat (a stale mount). */
async function mkdirAll(path: string): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

/** Mount points at or below `dir` in this namespace. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const mounts = parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo"));
  return mounts.map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

async function sh(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, {
    args,
    stderr: "piped",
    signal: AbortSignal.timeout(10_000),
  }).output();
  if (output.code !== 0) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/**
 * Writes kubelet's record of a staged volume beside its staging path
 * (`<sha>/vol_data.json`), as kubelet does before NodeStageVolume and keeps
 * until NodeUnstageVolume succeeded.
 */
export async function writeVolData(stagingPath: string, volumeHandle: string): Promise<void> {
  const parent = stagingPath.slice(0, stagingPath.lastIndexOf("/"));
  await Deno.writeTextFile(
    `${parent}/vol_data.json`,
    JSON.stringify({ driverName: DRIVER_NAME, volumeHandle }),
  );
}
