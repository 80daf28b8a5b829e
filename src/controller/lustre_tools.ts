/** The lfs calls of provisioning: project IDs, project quotas, default striping. */
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Striping } from "./parameters.ts";
import { compressionArgs } from "../lustre/compression.ts";

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
  if (striping.compression !== undefined) {
    args.push(...compressionArgs(striping.compression, striping.compressionChunk));
  }
  if (args.length === 1) return;
  await runner.run("lfs", [...args, dir], { timeoutMs });
}

/** Capacity as Lustre keeps it: rounded up to whole KiB. */
export function roundCapacity(bytes: number): number {
  return Math.ceil(bytes / 1024) * 1024;
}

/**
 * The OST pools of the file system mounted at `mountPath`, from
 * `lfs pool_list MOUNT` ("Pools from fs1:" then one `fs1.NAME` a line).
 * @throws CommandFailedError, CommandTimeoutError, CommandNotFoundError
 */
export async function listPools(
  runner: CommandRunner,
  mountPath: string,
  fsName: string,
  timeoutMs: number,
): Promise<string[]> {
  const { stdout } = await runner.run("lfs", ["pool_list", mountPath], { timeoutMs });
  return parsePoolList(stdout, fsName);
}

/** Pool names in `lfs pool_list` output, without the `fsname.` prefix. */
export function parsePoolList(stdout: string, fsName: string): string[] {
  const prefix = `${fsName}.`;
  return stdout.split("\n").map((l) => l.trim())
    .filter((l) => l.startsWith(prefix) && l.length > prefix.length)
    .map((l) => l.slice(prefix.length));
}

/**
 * Whether project quotas are enabled on the file system at `mountPath`:
 * `lfs quota -p 0 MOUNT` answers "prj quotas are not enabled." with exit 3
 * when they are not; "unknown" when the check itself fails.
 */
export async function projectQuotaState(
  runner: CommandRunner,
  mountPath: string,
  timeoutMs: number,
): Promise<"enabled" | "disabled" | { unknown: string }> {
  try {
    const r = await runner.run("lfs", ["quota", "-q", "-p", "0", mountPath], {
      timeoutMs,
      check: false,
    });
    if (r.code === 0) return "enabled";
    if (r.code === 3 || /quotas are not enabled/.test(r.stdout + r.stderr)) return "disabled";
    return { unknown: `lfs quota exited with ${r.code}: ${(r.stderr || r.stdout).trim()}` };
  } catch (error) {
    return { unknown: (error as Error).message };
  }
}
