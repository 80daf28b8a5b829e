/** The campaign's fixed cast: six static PVs on the simulator's fs1/fs2 and four pods. */

/** One static PV. */
export interface ChaosVolume {
  readonly id: string;
  readonly fs: "fs1" | "fs2";
  /** Directory inside the file system ("" for its root). */
  readonly subdir: string;
}

export const VOLUMES: readonly ChaosVolume[] = [
  { id: "chaos-v0", fs: "fs1", subdir: "a" },
  { id: "chaos-v1", fs: "fs1", subdir: "b" },
  { id: "chaos-v2", fs: "fs1", subdir: "c/deep" },
  { id: "chaos-v3", fs: "fs2", subdir: "" },
  { id: "chaos-v4", fs: "fs2", subdir: "d" },
  { id: "chaos-v5", fs: "fs2", subdir: "e" },
];

export const PODS: readonly string[] = ["pod-0", "pod-1", "pod-2", "pod-3"];

export const FILE_SYSTEMS = ["fs1", "fs2"] as const;

/** The volume context kubelet passes for a PV (from its volumeAttributes). */
export function volumeContext(volume: ChaosVolume): Record<string, string> {
  const source = `10.0.0.1@tcp:/${volume.fs}`;
  return volume.subdir === "" ? { source } : { source, subdir: volume.subdir };
}

/** The file every publish of `volume` must show. */
export function markerName(volume: ChaosVolume): string {
  return `marker-${volume.id}`;
}

/** The file a pod writes into a volume. */
export function dataName(pod: string): string {
  return `data-${pod}.txt`;
}
