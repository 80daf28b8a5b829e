/**
 * Reads a directory's Lustre project and that project's quota, so volume
 * stats show the quota as the volume's size on every client version (Lustre
 * 2.14+ statfs does it only for PROJINHERIT directories, and 2.16 makes it
 * optional).
 */
import type { CommandRunner } from "../exec/command_runner.ts";

/** Usage and hard (else soft) limits of one project; 0 means no limit. */
export interface ProjectQuota {
  readonly projectId: number;
  readonly usedBytes: number;
  readonly limitBytes: number;
  readonly usedInodes: number;
  readonly limitInodes: number;
}

/**
 * The project ID of `path` when it carries the inherit flag, else undefined.
 * @throws CommandFailedError, CommandTimeoutError
 */
export async function readProjectId(
  runner: CommandRunner,
  path: string,
  timeoutMs: number,
): Promise<number | undefined> {
  const { stdout } = await runner.run("lfs", ["project", "-d", path], { timeoutMs });
  const match = /^\s*(\d+)\s+([P-])\s/.exec(stdout);
  if (!match || match[2] !== "P" || match[1] === "0") return undefined;
  return Number(match[1]);
}

/**
 * Usage and limits of project `id` on the file system holding `path`.
 * @throws CommandFailedError, CommandTimeoutError, SyntaxError
 */
export async function readProjectQuota(
  runner: CommandRunner,
  path: string,
  id: number,
  timeoutMs: number,
): Promise<ProjectQuota> {
  const { stdout } = await runner.run("lfs", ["quota", "-p", String(id), path], { timeoutMs });
  return parseProjectQuota(stdout, id);
}

/**
 * Parses `lfs quota -p` output (2.15 layout, long mount paths on a line of
 * their own, 2.16/2.17 column names); values are KiB and counts, `*` marks
 * an exceeded limit.
 * @throws SyntaxError when no data row is found
 */
export function parseProjectQuota(output: string, id: number): ProjectQuota {
  const lines = output.split("\n");
  const header = lines.findIndex((l) => /^\s*Filesystem\s/.test(l));
  if (header < 0) throw new SyntaxError(`lfs quota printed no header: "${output.trim()}"`);
  const tokens = lines.slice(header + 1).join(" ").trim().split(/\s+/).slice(1);
  const numbers = tokens.map((t) => t.replace(/[*[\]]/g, ""));
  if (numbers.length < 8 || ![0, 1, 2, 4, 5, 6].every((i) => /^\d+$/.test(numbers[i]))) {
    throw new SyntaxError(`lfs quota printed no data row: "${output.trim()}"`);
  }
  const [kbytes, bsoft, bhard, , files, isoft, ihard] = numbers.map(Number);
  return {
    projectId: id,
    usedBytes: kbytes * 1024,
    limitBytes: (bhard || bsoft) * 1024,
    usedInodes: files,
    limitInodes: ihard || isoft,
  };
}
