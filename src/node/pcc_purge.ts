/**
 * The purge loop of the PCC cache directories (hotNodes): every
 * `pccPurgeInterval` seconds per cache directory, when its file system is
 * used above `pccPurgeHighUsage` percent, the least recently used cached
 * files are detached (`lfs pcc detach_fid MNT FID`, which removes the copy)
 * until it is below `pccPurgeLowUsage`. The driver never deletes a cached
 * copy itself: Lustre does, at the detach.
 */
import type { CommandResult } from "../exec/command_runner.ts";
import type { CachedFile, CacheDirs } from "./pcc_cache_dir.ts";
import type { Logger } from "../log.ts";
import type { PccRecord } from "./pcc_attach.ts";

/** Told what each scan of a cache directory found and how many files each purge detached. */
export interface PccMetricsHook {
  cacheScanned(cache: string, bytes: number, files: number): void;
  purged(cache: string, files: number): void;
}

/** What the purge loop needs. */
export interface PccPurgeDeps {
  readonly logger: Logger;
  /** The staged PCC volumes (their cache dirs, watermarks and shared mounts). */
  readonly records: () => Promise<readonly PccRecord[]>;
  /** Runs `lfs` where the Lustre mounts are (the keeper, if any); never throws on exit codes. */
  readonly run: (command: string, args: readonly string[]) => Promise<CommandResult>;
  /** The path of a shared mount where `run` runs (the keeper's path of it). */
  readonly mountPath: (mount: string) => string;
  /** The cache directories as the node sees them. */
  readonly cacheDirs: CacheDirs;
  readonly metrics?: PccMetricsHook;
  /** Tick of the loop (default 1000 ms); each cache dir is looked at every pccPurgeInterval. */
  readonly tickMs?: number;
}

/** Runs the purge of every cache directory in use, on a timer while there is one. */
export class PccPurger {
  readonly #deps: PccPurgeDeps;
  readonly #lastRun = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #running = false;

  constructor(deps: PccPurgeDeps) {
    this.#deps = deps;
  }

  /** Starts the loop (idempotent); it stops itself when no PCC volume is left. */
  start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => void this.#tick(), this.#deps.tickMs ?? 1000);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops the loop. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const records = await this.#deps.records();
      if (records.length === 0) {
        this.stop();
        return;
      }
      const now = Date.now();
      for (const cache of new Set(records.map((r) => r.cache))) {
        const mine = records.filter((r) => r.cache === cache);
        const intervalMs = Math.min(...mine.map((r) => r.spec.intervalS)) * 1000;
        const last = this.#lastRun.get(cache);
        if (last === undefined) this.#lastRun.set(cache, now);
        if (last === undefined || now - last < intervalMs) continue;
        this.#lastRun.set(cache, now);
        await this.purge(cache, mine).catch((error) =>
          this.#deps.logger.warn("PCC purge of {cache} failed: {error}", {
            cache,
            error: (error as Error).message,
          })
        );
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * One purge of `cache`: when above the high watermark, detaches least
   * recently used files until below the low one. Returns the files detached.
   */
  async purge(cache: string, records: readonly PccRecord[]): Promise<number> {
    const high = Math.min(...records.map((r) => r.spec.highUsage));
    const low = Math.min(...records.map((r) => r.spec.lowUsage));
    const dirs = this.#deps.cacheDirs;
    const measure = (dir: string) => dirs.usedPercent(dir);
    const files = await dirs.scan(cache);
    this.#report(cache, files);
    let used = await measure(cache);
    if (used <= high) return 0;
    const mounts = [...new Set(records.map((r) => r.mount))];
    let detached = 0;
    for (const file of files.sort((a, b) => a.atimeMs - b.atimeMs)) {
      if (used < low) break;
      if (await this.#detach(mounts, file)) detached++;
      used = await measure(cache);
    }
    this.#deps.metrics?.purged(cache, detached);
    this.#report(cache, await dirs.scan(cache));
    this.#deps.logger.info(
      "PCC purge of {cache}: {detached} least recently used files detached, {used}% used now",
      { cache, detached, used, high, low },
    );
    return detached;
  }

  /** Detaches through each shared mount until the copy is gone. */
  async #detach(mounts: readonly string[], file: CachedFile): Promise<boolean> {
    for (const mount of mounts) {
      await this.#deps.run("lfs", ["pcc", "detach_fid", this.#deps.mountPath(mount), file.fid]);
      if (!(await this.#deps.cacheDirs.exists(file.path))) return true;
    }
    this.#deps.logger.warn("PCC copy {path} stays: no shared mount could detach {fid}", {
      path: file.path,
      fid: file.fid,
    });
    return false;
  }

  #report(cache: string, files: readonly CachedFile[]): void {
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    this.#deps.metrics?.cacheScanned(cache, bytes, files.length);
  }
}
