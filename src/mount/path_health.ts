/**
 * Checks whether a mounted path still answers, without ever blocking the
 * event loop: the file system calls run on Deno's blocking thread pool and
 * the wait for them is bounded.
 */
import { statfs } from "node:fs/promises";

/** Errno codes of a mount whose server is gone. */
export const STALE_ERRNOS = new Set(["ENOTCONN", "ESTALE", "EIO", "ESHUTDOWN", "ETIMEDOUT"]);

/** Whether a path answered, and if not why. */
export type PathHealth =
  | { readonly healthy: true }
  | { readonly healthy: false; readonly stale: boolean; readonly reason: string };

/** Space and inode figures of a file system. */
export interface FsUsage {
  readonly totalBytes: number;
  readonly availableBytes: number;
  readonly usedBytes: number;
  readonly totalInodes: number;
  readonly freeInodes: number;
  readonly usedInodes: number;
}

/** Thrown when a file system call does not return in time. */
export class PathTimeoutError extends Error {
  override name = "PathTimeoutError";
  constructor(readonly path: string, readonly timeoutMs: number) {
    super(`"${path}" did not answer within ${timeoutMs} ms`);
  }
}

/** Stats the path and lists it; stale errnos and timeouts are unhealthy. */
export async function checkPathHealth(path: string, timeoutMs: number): Promise<PathHealth> {
  try {
    await bounded(path, timeoutMs, async () => {
      await Deno.stat(path);
      for await (const _ of Deno.readDir(path)) break;
    });
    return { healthy: true };
  } catch (error) {
    if (error instanceof PathTimeoutError) {
      return { healthy: false, stale: true, reason: error.message };
    }
    const code = (error as { code?: string }).code ?? "";
    return {
      healthy: false,
      stale: STALE_ERRNOS.has(code),
      reason: `${code || "error"}: ${(error as Error).message}`,
    };
  }
}

/**
 * statfs(2) of the path, bounded.
 * @throws PathTimeoutError, or the file system error
 */
export async function readUsage(path: string, timeoutMs: number): Promise<FsUsage> {
  const stats = await bounded(path, timeoutMs, () => statfs(path));
  const block = Number(stats.bsize);
  const total = Number(stats.blocks) * block;
  const free = Number(stats.bfree) * block;
  const available = Number(stats.bavail) * block;
  const files = Number(stats.files);
  const freeFiles = Number(stats.ffree);
  return {
    totalBytes: total,
    availableBytes: available,
    usedBytes: Math.max(0, total - free),
    totalInodes: files,
    freeInodes: freeFiles,
    usedInodes: Math.max(0, files - freeFiles),
  };
}

/** Runs a file system call, giving up on it after timeoutMs. */
export { bounded as withTimeout };

/** Errno name of a file system error, "" if it has none. */
export function errnoOf(error: unknown): string {
  return (error as { code?: string })?.code ?? "";
}

async function bounded<T>(path: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PathTimeoutError(path, timeoutMs)), timeoutMs);
  });
  const running = work();
  running.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
