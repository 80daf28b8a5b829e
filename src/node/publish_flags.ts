/**
 * The per-bind flags of a pod's target: nosuid and nodev unless the volume
 * asks for suid or dev and the node's settings allow it (allowSuidDevVolumes).
 */
import { type CallContext, invalidArgument } from "../csi/requests.ts";
import type { MountFlag } from "../mount/mounter.ts";
import type { VolumeSpec } from "./volume_spec.ts";

/**
 * The flags for publishing `spec`, without "ro".
 * @throws CsiError INVALID_ARGUMENT when suid or dev is asked for and not allowed
 */
export function publishFlags(
  context: CallContext,
  spec: Pick<VolumeSpec, "bindFlags" | "suidDev">,
  allowSuidDev: boolean,
): MountFlag[] {
  const asked = spec.suidDev;
  if (asked.length > 0 && !allowSuidDev) {
    throw invalidArgument(
      context,
      `mount option "${asked[0]}" is refused: pods get nosuid,nodev unless the node's setting ` +
        "allowSuidDevVolumes (--allow-suid-dev-volumes=true) allows volumes to ask for suid or dev",
    );
  }
  const flags = new Set<MountFlag>(spec.bindFlags);
  if (!asked.includes("suid")) flags.add("nosuid");
  if (!asked.includes("dev")) flags.add("nodev");
  return [...flags];
}
