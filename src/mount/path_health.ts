/**
 * What a check of a mounted path answers, and `withTimeout`, which only
 * bounds the wait for a call on Deno's shared blocking pool: a call hung in
 * the kernel keeps its pool thread. Calls on paths inside Lustre mounts go
 * through the file system gate (fs_gate.ts) instead.
 */

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
