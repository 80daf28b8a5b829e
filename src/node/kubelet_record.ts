/**
 * Kubelet's own record that it staged a volume: before NodeStageVolume it
 * creates the staging directory `<...>/<sha>/globalmount` and writes
 * `<...>/<sha>/vol_data.json` naming the volume handle; it removes both
 * after NodeUnstageVolume succeeds (pkg/volume/csi/csi_attacher.go). The
 * driver reads it to tell "kubelet believes this volume is staged" (stage
 * it again) from "publish before any stage" (FAILED_PRECONDITION).
 */

/** Name of kubelet's volume data file beside the staging directory. */
export const VOL_DATA_FILE = "vol_data.json";

/**
 * True when the staging directory exists and kubelet's volume data beside
 * it names `volumeId`. Any doubt (no file, unreadable, other volume) is false.
 */
export async function kubeletStaged(staging: string, volumeId: string): Promise<boolean> {
  const parent = staging.slice(0, staging.lastIndexOf("/"));
  try {
    const info = await Deno.lstat(staging);
    if (!info.isDirectory) return false;
    const file = `${parent}/${VOL_DATA_FILE}`;
    if (!(await Deno.lstat(file)).isFile) return false;
    const data = JSON.parse(await Deno.readTextFile(file)) as Record<string, unknown>;
    return data?.volumeHandle === volumeId;
  } catch {
    return false;
  }
}
