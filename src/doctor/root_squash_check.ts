/**
 * Doctor's root-squash check: for each --source mounted in this mount
 * namespace (the controller's container after its first call on it), makes
 * a directory as root and looks at its owner and at chown, as the controller does
 * before its first change (controller/root_squash.ts).
 */
import type { LustreSource } from "../lustre/source.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { type CheckResult, fail, pass } from "./check_result.ts";

/** What the check reads and does. */
export interface RootSquashCheckDeps {
  readonly mountInfo: () => Promise<MountInfo[]>;
  /** Why root is squashed at a mount path, or undefined when it is not. */
  readonly reason: (mountPath: string) => Promise<string | undefined>;
}

/** The check's name for a file system. */
export function rootSquashCheckName(source: LustreSource): string {
  return `root squash ${source.fsName}`;
}

/**
 * Checks root squash on `source`, through a mount of its root in this
 * namespace; undefined (no line in the report) when there is none, as on a
 * node plugin, whose mounts live in its keeper namespace.
 */
export async function checkRootSquash(
  source: LustreSource,
  deps: RootSquashCheckDeps,
): Promise<CheckResult | undefined> {
  const name = rootSquashCheckName(source);
  const mounts = await deps.mountInfo().catch(() => []);
  // Newest first; a dead mount (an evicted client) is passed over for one that answers.
  const candidates = mounts.filter((m) =>
    /(^|\.)lustre$/.test(m.fsType) && m.root === "/" && m.source.endsWith(`:/${source.fsName}`)
  ).reverse();
  if (candidates.length === 0) return undefined;
  let reason: string | undefined;
  let mountPoint = "";
  let problem: Error | undefined;
  for (const mount of candidates) {
    try {
      reason = await deps.reason(mount.mountPoint);
      mountPoint = mount.mountPoint;
      problem = undefined;
      break;
    } catch (error) {
      problem = error as Error;
    }
  }
  if (problem) {
    return fail(
      name,
      `cannot tell at ${candidates.map((m) => m.mountPoint).join(", ")}: ${problem.message}`,
      "check that the file system answers (lfs df)",
    );
  }
  if (reason === undefined) return pass(name, `root acts as root at ${mountPoint}`);
  return fail(
    name,
    `root is squashed: ${reason}`,
    `add this node's NIDs (lctl list_nids) to a nodemap with the admin and trusted properties, ` +
      `or to nosquash_nids ("lctl set_param -P mdt.${source.fsName}-MDT*.nosquash_nids=NIDS" ` +
      "on the MGS); see docs/provisioning.md#root-squash",
  );
}
