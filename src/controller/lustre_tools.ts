/** The lfs calls of provisioning: project IDs, project quotas, default striping. */
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Striping } from "./parameters.ts";

/** Sets project ID `id` and the inherit flag on `dir` and everything in it. */
export async function setProject(
  runner: CommandRunner,
  dir: string,
  id: number,
  timeoutMs: number,
) {
  await runner.run("lfs", ["project", "-p", String(id), "-s", "-r", dir], { timeoutMs });
}

/**
 * Sets the project's hard block limit (bytes, rounded up to KiB as Lustre
 * stores it; 0 = unlimited) and hard inode limit (0 = unlimited).
 */
export async function setProjectQuota(
  runner: CommandRunner,
  mountPath: string,
  id: number,
  limits: { bytes: number; inodes: number },
  timeoutMs: number,
) {
  const kib = Math.ceil(limits.bytes / 1024);
  const args = [
    "setquota",
    "-p",
    String(id),
    "-B",
    `${kib}k`,
    "-I",
    String(limits.inodes),
    mountPath,
  ];
  await runner.run("lfs", args, { timeoutMs });
}

/** Sets the default layout of new files in `dir`. */
export async function setStriping(
  runner: CommandRunner,
  dir: string,
  striping: Striping,
  timeoutMs: number,
) {
  const args = ["setstripe"];
  if (striping.count !== undefined) args.push("-c", String(striping.count));
  if (striping.size !== undefined) args.push("-S", striping.size);
  if (striping.pool !== undefined) args.push("-p", striping.pool);
  if (args.length === 1) return;
  await runner.run("lfs", [...args, dir], { timeoutMs });
}

/** Capacity as Lustre keeps it: rounded up to whole KiB. */
export function roundCapacity(bytes: number): number {
  return Math.ceil(bytes / 1024) * 1024;
}
