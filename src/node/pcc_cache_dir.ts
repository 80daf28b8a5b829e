/**
 * The PCC cache directories as the node sees them. A cache directory is a
 * host path (node-local NVMe) that the node plugin's container does not
 * mount: with a keeper namespace (a view of the host's file system) every
 * look goes through host tools run there (`realpath`, `stat`, `find`);
 * without one the driver runs on the host's view and reads it directly.
 */
import { statfs } from "node:fs/promises";
import type { CommandResult } from "../exec/command_runner.ts";
import type { Mounter } from "../mount/mounter.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import type { MountKeeper } from "../mount/mount_namespace.ts";

/** One cached copy, named by its FID. */
export interface CachedFile {
  readonly path: string;
  readonly fid: string;
  readonly size: number;
  readonly atimeMs: number;
}

/** What the PCC code reads of the node's cache directories. */
export interface CacheDirs {
  /**
   * The real path of `dir`.
   * @throws Error saying why it is not a directory
   */
  realDirectory(dir: string): Promise<string>;
  /** The mount table of the view the cache directories are in. */
  mountInfo(): Promise<MountInfo[]>;
  /** Percent of the file system holding `dir` in use, as df shows it (rounded up). */
  usedPercent(dir: string): Promise<number>;
  /** Every cached copy (a regular file named like a FID) below `dir`. */
  scan(dir: string): Promise<CachedFile[]>;
  /** Is `path` there? */
  exists(path: string): Promise<boolean>;
}

const FID_NAME = /^\[?0x[0-9a-f]+:0x[0-9a-f]+:0x[0-9a-f]+\]?$/i;

function percent(blocks: number, free: number, available: number): number {
  const used = blocks - free;
  const total = used + available;
  return total === 0 ? 0 : Math.ceil((used * 100) / total);
}

/** The cache directories in the driver's own view (no keeper: the driver runs on the host's). */
export function localCacheDirs(mounter: Mounter): CacheDirs {
  return {
    async realDirectory(dir) {
      const real = await Deno.realPath(dir);
      if (!(await Deno.stat(real)).isDirectory) throw new Error("it is not a directory");
      return real;
    },
    mountInfo: () => mounter.mountInfo(),
    async usedPercent(dir) {
      const st = await statfs(dir);
      return percent(st.blocks, st.bfree, st.bavail);
    },
    async scan(dir) {
      const files: CachedFile[] = [];
      const walk = async (path: string) => {
        for await (const entry of Deno.readDir(path)) {
          const child = `${path}/${entry.name}`;
          if (entry.isDirectory) await walk(child);
          else if (entry.isFile && FID_NAME.test(entry.name)) {
            const st = await Deno.lstat(child).catch(() => undefined);
            if (st?.isFile) {
              files.push({
                path: child,
                fid: entry.name.replace(/^\[|\]$/g, ""),
                size: st.size,
                atimeMs: st.atime?.getTime() ?? 0,
              });
            }
          }
        }
      };
      await walk(dir);
      return files;
    },
    async exists(path) {
      return await Deno.lstat(path).then(() => true, () => false);
    },
  };
}

/** The cache directories as the host sees them, through tools run in the keeper namespace. */
export function keeperCacheDirs(keeper: MountKeeper, timeoutMs: number): CacheDirs {
  const run = async (command: string, args: string[]): Promise<CommandResult> => {
    const result = await keeper.run(command, args, timeoutMs);
    if (result.code !== 0) {
      throw new Error(
        `${command} ${args.join(" ")}: ${result.stderr.trim() || `exit ${result.code}`}`,
      );
    }
    return result;
  };
  return {
    async realDirectory(dir) {
      const real = (await run("realpath", ["-e", "--", dir])).stdout.trim();
      const type = (await run("stat", ["-c", "%F", "--", real])).stdout.trim();
      if (type !== "directory") throw new Error(`it is a ${type}, not a directory`);
      return real;
    },
    mountInfo: () => keeper.mountInfo(),
    async usedPercent(dir) {
      const [blocks, free, available] = (await run("stat", ["-f", "-c", "%b %f %a", "--", dir]))
        .stdout.trim().split(/\s+/).map(Number);
      return percent(blocks, free, available);
    },
    async scan(dir) {
      // One line per copy: access time (seconds), size, path; paths hold no newline (FID names).
      const { stdout } = await run("find", [
        dir,
        "-type",
        "f",
        "-name",
        "0x*:0x*:0x*",
        "-printf",
        "%A@ %s %p\\n",
      ]);
      return stdout.split("\n").flatMap((line) => {
        const m = /^(\d+(?:\.\d+)?) (\d+) (.+)$/.exec(line);
        const name = m?.[3].slice(m[3].lastIndexOf("/") + 1) ?? "";
        if (!m || !FID_NAME.test(name)) return [];
        return [{ path: m[3], fid: name, size: Number(m[2]), atimeMs: Number(m[1]) * 1000 }];
      });
    },
    async exists(path) {
      const result = await keeper.run("stat", ["-c", "%F", "--", path], timeoutMs);
      return result.code === 0;
    },
  };
}
