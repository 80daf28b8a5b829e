/**
 * The background purger: one per controller. It deletes the trees in each
 * file system's trash (controller/trash.ts) a few entries at a time, then
 * clears the project quota and gives the project ID back, only once the
 * tree is gone. It runs when a DeleteVolume moved something to the trash,
 * when any call touches a file system, and at start for the file systems it
 * knew before a restart; a pass that failed is tried again later.
 */
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import { type LustreSource, parseLustreSource } from "../lustre/source.ts";
import type { Registry } from "../metrics/prom.ts";
import { Counter, Gauge } from "../metrics/prom.ts";
import { withTimeout } from "../mount/path_health.ts";
import type { FileSystems } from "./controller_mounts.ts";
import { setProjectQuota } from "./lustre_tools.ts";
import { removeTree } from "./remove_tree.ts";
import { listTrash, type TrashEntry, trashPath } from "./trash.ts";
import type { VolumeFs } from "./volume_fs.ts";

/** What the purger needs. */
export interface PurgerDeps {
  readonly mounts: FileSystems;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Bounds each file operation and lfs call. */
  readonly timeoutMs: number;
  /** Trash entries purged at once per file system (default 2). */
  readonly entriesAtOnce?: number;
  /** Unlinks in flight at once per entry (default 16). */
  readonly unlinksAtOnce?: number;
  /** A file listing the file systems to look at after a restart. */
  readonly knownFile?: string;
  /** Where the klustre_csi_trash_* metrics go (none when absent). */
  readonly registry?: Registry;
  /** Delay before a failed pass is tried again (default 60 s). */
  readonly retryMs?: number;
}

/** Purges the trash of the controller's file systems in the background. */
export class TrashPurger {
  readonly #deps: PurgerDeps;
  readonly #sources = new Map<string, LustreSource>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  readonly #entries = new Map<string, number>();
  readonly #abort = new AbortController();
  readonly #timers = new Set<number>();
  readonly #purgedFiles?: Counter<"fs">;
  readonly #purgedBytes?: Counter<"fs">;

  constructor(deps: PurgerDeps) {
    this.#deps = deps;
    if (deps.registry) {
      const entries = this.#entries;
      new Gauge({
        name: "klustre_csi_trash_entries",
        help: "Deleted volumes whose trees wait in the trash to be purged, per file system",
        labelNames: ["fs"],
        registers: [deps.registry],
        collect() {
          for (const [fs, count] of entries) this.set({ fs }, count);
        },
      });
      this.#purgedFiles = new Counter({
        name: "klustre_csi_trash_purged_files_total",
        help: "Files, directories and links the purger deleted from the trash",
        labelNames: ["fs"],
        registers: [deps.registry],
      });
      this.#purgedBytes = new Counter({
        name: "klustre_csi_trash_purged_bytes_total",
        help: "Bytes of the regular files the purger deleted from the trash",
        labelNames: ["fs"],
        registers: [deps.registry],
      });
    }
  }

  /** Trash entries seen on the last pass, per file system name. */
  get entries(): ReadonlyMap<string, number> {
    return this.#entries;
  }

  /** Looks at the file systems known before a restart. */
  async resume(): Promise<void> {
    if (!this.#deps.knownFile) return;
    let sources: string[] = [];
    try {
      sources = JSON.parse(await Deno.readTextFile(this.#deps.knownFile));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        this.#deps.logger.warn("Cannot read {file}: {error}", {
          file: this.#deps.knownFile,
          error: (error as Error).message,
        });
      }
    }
    for (const text of sources) {
      try {
        this.wake(parseLustreSource(text));
      } catch {
        // A line written by another version: skipped.
      }
    }
  }

  /** Looks at `source`'s trash once, the first time this controller works on it. */
  touch(source: LustreSource): void {
    if (!this.#sources.has(source.fsName)) this.wake(source);
  }

  /** Starts a pass on `source`'s trash, or another one after the running pass. */
  wake(source: LustreSource): void {
    if (this.#abort.signal.aborted) return;
    const key = source.fsName;
    if (!this.#sources.has(key)) {
      this.#sources.set(key, source);
      this.#remember();
    }
    if (this.#running.has(key)) {
      this.#again.add(key);
      return;
    }
    const run = (async () => {
      do {
        this.#again.delete(key);
        const ok = await this.#pass(source);
        if (!ok) this.#retryLater(source);
      } while (this.#again.has(key) && !this.#abort.signal.aborted);
    })().finally(() => this.#running.delete(key));
    this.#running.set(key, run);
  }

  /** Waits for the passes running now (tests, benches, exit). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  /** Stops between batches; the trash stays for the next start. */
  async stop(): Promise<void> {
    this.#abort.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    await Promise.allSettled([...this.#running.values()]);
  }

  #retryLater(source: LustreSource) {
    const timer: number = setTimeout(() => {
      this.#timers.delete(timer);
      this.wake(source);
    }, this.#deps.retryMs ?? 60_000) as unknown as number;
    Deno.unrefTimer(timer);
    this.#timers.add(timer);
  }

  #remember() {
    const file = this.#deps.knownFile;
    if (!file) return;
    const text = JSON.stringify([...this.#sources.values()].map((s) => s.fsSource));
    Deno.writeTextFile(file, text).catch((error) =>
      this.#deps.logger.debug("Cannot write {file}: {error}", { file, error: error.message })
    );
  }

  /** One pass over a file system's trash; false when something is left to retry. */
  async #pass(source: LustreSource): Promise<boolean> {
    const { logger } = this.#deps;
    try {
      return await this.#deps.mounts.onFileSystem(source, async (mountPath, _records, fs) => {
        let inside: string;
        try {
          inside = await withTimeout(
            mountPath,
            this.#deps.timeoutMs,
            () => Deno.realPath(trashPath(mountPath)),
          );
        } catch (error) {
          if (error instanceof Deno.errors.NotFound) {
            this.#entries.set(source.fsName, 0);
            return true;
          }
          throw error;
        }
        const entries = [...(await listTrash(mountPath, this.#deps.timeoutMs)).entries()];
        this.#entries.set(source.fsName, entries.length);
        let ok = true;
        let next = 0;
        const worker = async () => {
          while (next < entries.length && !this.#abort.signal.aborted) {
            const [token, entry] = entries[next++];
            try {
              if (await this.#purge(fs, source, inside, token, entry)) {
                this.#entries.set(source.fsName, (this.#entries.get(source.fsName) ?? 1) - 1);
              }
            } catch (error) {
              ok = false;
              logger.warn(
                "Cannot purge {dir} of deleted volume {volumeId} from the trash: {error}",
                {
                  dir: entry.dir,
                  volumeId: entry.volumeId,
                  error: (error as Error).message,
                },
              );
            }
          }
        };
        const width = Math.max(1, this.#deps.entriesAtOnce ?? 2);
        await Promise.all(Array.from({ length: width }, worker));
        await this.#dropEmptyFolders(fs, inside, new Set(entries.map(([token]) => token)));
        // What is left now, whoever purged the rest (another replica's purger too).
        const left = await listTrash(mountPath, this.#deps.timeoutMs).catch(() => undefined);
        if (left) this.#entries.set(source.fsName, left.size);
        return ok;
      });
    } catch (error) {
      logger.warn("Cannot look at the trash of {fsName}: {error}", {
        fsName: source.fsName,
        error: (error as Error).message,
      });
      return false;
    }
  }

  /**
   * Removes entry folders without a description (a crash between the last
   * two steps of a purge, or during a delete's first write), under the lock
   * so no delete is writing one; a folder that still holds a tree is kept.
   */
  async #dropEmptyFolders(fs: VolumeFs, inside: string, described: Set<string>) {
    const { timeoutMs } = this.#deps;
    const names: string[] = [];
    await withTimeout(inside, timeoutMs, async () => {
      for await (const item of Deno.readDir(inside)) {
        if (item.isDirectory && !described.has(item.name)) names.push(item.name);
      }
    }).catch(() => undefined);
    if (names.length === 0) return;
    await fs.lock.run(async () => {
      for (const name of names) {
        const folder = `${inside}/${name}`;
        await withTimeout(folder, timeoutMs, async () => {
          if (await Deno.lstat(`${folder}/entry.json`).then(() => true, () => false)) return;
          await Deno.remove(`${folder}/entry.json.tmp`).catch(() => undefined);
          await Deno.remove(folder);
        }).catch(() => undefined);
      }
    });
  }

  /** Purges one entry; false when it is not ready (its delete is still moving it in). */
  async #purge(
    fs: VolumeFs,
    source: LustreSource,
    inside: string,
    token: string,
    entry: TrashEntry,
  ): Promise<boolean> {
    const { timeoutMs, runner, logger } = this.#deps;
    const record = await fs.records.read(entry.dir);
    if (record?.state === "deleting" && record.trash === token) return false;
    const folder = `${inside}/${token}`;
    const labels = { fs: source.fsName };
    let reported = { files: 0, bytes: 0 };
    const removed = await removeTree(`${folder}/tree`, {
      inside,
      parallel: this.#deps.unlinksAtOnce ?? 16,
      timeoutMs,
      signal: this.#abort.signal,
      onProgress: (count) => {
        this.#purgedFiles?.inc(labels, count.files - reported.files);
        this.#purgedBytes?.inc(labels, count.bytes - reported.bytes);
        reported = { ...count };
      },
    });
    await setProjectQuota(
      runner,
      fs.mountPath,
      entry.projectId,
      { bytes: 0, inodes: 0 },
      timeoutMs,
    );
    // Under the lock: a second purger (another replica) that raced here gives nothing back twice.
    const released = await fs.lock.run(async () => {
      const file = `${folder}/entry.json`;
      try {
        await withTimeout(file, timeoutMs, () => Deno.remove(file));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return false;
        throw error;
      }
      await fs.allocator.release(entry.projectId);
      return true;
    });
    await withTimeout(folder, timeoutMs, () => Deno.remove(folder)).catch(() => undefined);
    if (released) {
      logger.info(
        "Purged {dir} of deleted volume {volumeId} ({files} entries, {bytes} bytes); project {projectId} is free",
        {
          dir: entry.dir,
          volumeId: entry.volumeId,
          files: removed.files,
          bytes: removed.bytes,
          projectId: entry.projectId,
        },
      );
    }
    return true;
  }
}
