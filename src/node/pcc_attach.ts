/**
 * Read-only Persistent Client Cache ("Hot Nodes") datasets on the shared
 * mounts: one dataset per (shared mount, cache directory), added with
 * `lctl pcc add MNT CACHE --param "RULES roid=N ropcc=1"` where RULES is
 * each PCC volume's autocache rule limited to its project ID, and set again
 * (del + add) when a volume comes or goes; deleted with the last one. Which
 * volumes use a dataset is kept in `<stateDir>/pcc/<volume>.json`, since
 * NodeUnstageVolume carries no volume attributes.
 */
import { createHash } from "node:crypto";
import type { CommandResult, CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import type { Mounter } from "../mount/mounter.ts";
import type { MountKeeper } from "../mount/mount_namespace.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import { KeyedMutex } from "../keyed_mutex.ts";
import { readProjectId } from "../lustre/project_quota.ts";
import { pccAddParam, type PccSpec, roidOf, ruleForProject } from "../lustre/pcc_params.ts";
import { keptPath } from "./kept_mounts.ts";
import { compareVersions } from "../lustre/client_check.ts";
import { type PccMetricsHook, PccPurger } from "./pcc_purge.ts";
import { type CacheDirs, keeperCacheDirs, localCacheDirs } from "./pcc_cache_dir.ts";

/** First client version with read-only PCC (roid, ropcc). */
export const RO_PCC_VERSION = "2.16.0";

/** Folder below the state dir with one record per staged PCC volume. */
export const PCC_FOLDER = "pcc";

/** What PccAttach needs. */
export interface PccAttachDeps {
  readonly runner: CommandRunner;
  readonly mounter: Mounter;
  readonly logger: Logger;
  readonly stateDir: string;
  readonly timeoutMs: number;
  readonly keeper?: MountKeeper;
  /** The Lustre client version (read-only PCC needs 2.16). */
  readonly clientVersion: () => Promise<string>;
  readonly metrics?: PccMetricsHook;
  /** The cache directories as the node sees them (default: through the keeper, else directly). */
  readonly cacheDirs?: CacheDirs;
  /** Tick of the purge loop (tests); default 1 s. */
  readonly purgeTickMs?: number;
}

/** One staged PCC volume. */
export interface PccRecord {
  readonly volumeId: string;
  /** The shared mount's path in the driver's namespace. */
  readonly mount: string;
  readonly cache: string;
  /** The volume's rule, limited to its project ID. */
  readonly rule: string;
  readonly spec: PccSpec;
}

/** Attaches and detaches the PCC datasets of staged volumes. */
export class PccAttach {
  readonly #deps: PccAttachDeps;
  readonly #mutex = new KeyedMutex();
  readonly #purger: PccPurger;
  readonly #dirs: CacheDirs;
  /** Shared mount path -> mount ID its datasets were last set on. */
  readonly #synced = new Map<string, number>();

  constructor(deps: PccAttachDeps) {
    this.#deps = deps;
    this.#dirs = deps.cacheDirs ??
      (deps.keeper ? keeperCacheDirs(deps.keeper, deps.timeoutMs) : localCacheDirs(deps.mounter));
    this.#purger = new PccPurger({
      cacheDirs: this.#dirs,
      logger: deps.logger,
      records: () => this.records(),
      run: (command, args) => this.#run(command, args),
      mountPath: (mount) => deps.keeper ? keptPath(deps.keeper, mount) : mount,
      metrics: deps.metrics,
      tickMs: deps.purgeTickMs,
    });
  }

  /** The purge loop (started by the first attach). */
  get purger(): PccPurger {
    return this.#purger;
  }

  get recordsDir(): string {
    return `${this.#deps.stateDir}/${PCC_FOLDER}`;
  }

  /**
   * Adds the volume (staged at `staging` from the shared mount at `mount`) to
   * the dataset of its cache directory.
   * @throws CsiError FAILED_PRECONDITION (cache missing or on Lustre, no project ID, lctl refused)
   */
  async attach(
    volumeId: string,
    where: { readonly mount: string; readonly staging: string; readonly spec: PccSpec },
  ): Promise<void> {
    const { mount, staging, spec } = where;
    const version = await this.#deps.clientVersion();
    if (compareVersions(version, RO_PCC_VERSION) < 0) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot cache volume "${volumeId}" on this node (hotNodes): read-only PCC needs a Lustre ` +
          `client >= ${RO_PCC_VERSION}, this node has ${version}`,
      );
    }
    await this.#checkCache(spec.cache);
    const projid = await readProjectId(this.#deps.runner, staging, this.#deps.timeoutMs);
    if (projid === undefined) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot cache volume "${volumeId}" on this node (hotNodes): its directory has no project ` +
          "ID with the inherit flag, so the autocache rule cannot be limited to it; dynamic " +
          "volumes have one, for a static PV run `lfs project -p ID -s -r DIR`",
      );
    }
    const record: PccRecord = {
      volumeId,
      mount,
      cache: spec.cache,
      rule: ruleForProject(spec.rule, projid),
      spec,
    };
    await this.#mutex.run(mount, async () => {
      await Deno.mkdir(this.recordsDir, { recursive: true });
      await Deno.writeTextFile(this.#recordPath(volumeId), JSON.stringify(record));
      try {
        await this.#sync(mount, spec.cache);
      } catch (error) {
        // Not staged: the volume must not stay in the dataset (kubelet may never unstage it).
        await Deno.remove(this.#recordPath(volumeId)).catch(() => undefined);
        await this.#sync(mount, spec.cache).catch(() => undefined);
        throw error;
      }
    });
    this.#purger.start();
  }

  /**
   * Sets the datasets of the shared mount at `path` again when it is a new
   * mount (remounted after going stale, or first seen since a restart):
   * datasets live in the client instance and go with it.
   */
  async mounted(path: string, mountId: number): Promise<void> {
    if (this.#synced.get(path) === mountId) return;
    const caches = new Set(
      (await this.records()).filter((r) => r.mount === path).map((r) => r.cache),
    );
    try {
      await this.#mutex.run(path, async () => {
        for (const cache of caches) await this.#sync(path, cache);
      });
    } catch (error) {
      // Other volumes of the mount stage without the cache; the next use tries again.
      this.#deps.logger.warn("Cannot set the PCC datasets of {path} again: {error}", {
        path,
        error: (error as Error).message,
      });
      return;
    }
    this.#synced.set(path, mountId);
    if (caches.size > 0) this.#purger.start();
  }

  /** Starts the purge loop after a restart when PCC volumes are staged. */
  async resume(): Promise<void> {
    if ((await this.records()).length > 0) this.#purger.start();
  }

  /** Takes the volume out of its dataset (deleting the dataset with its last volume). */
  async detach(volumeId: string): Promise<void> {
    const record = await this.#read(this.#recordPath(volumeId));
    if (!record) return;
    await this.#mutex.run(record.mount, async () => {
      await Deno.remove(this.#recordPath(volumeId)).catch(() => undefined);
      // Unstaging must not fail on the cache: the volume is out of the records either way.
      await this.#sync(record.mount, record.cache).catch((error) =>
        this.#deps.logger.warn(
          "Cannot take volume {volumeId} out of PCC dataset {cache}: {error}",
          {
            volumeId,
            cache: record.cache,
            error: (error as Error).message,
          },
        )
      );
    });
  }

  /** Every staged PCC volume's record. */
  async records(): Promise<PccRecord[]> {
    const records: PccRecord[] = [];
    try {
      for await (const entry of Deno.readDir(this.recordsDir)) {
        const record = entry.isFile && await this.#read(`${this.recordsDir}/${entry.name}`);
        if (record) records.push(record);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return records;
  }

  /** Sets the dataset of (mount, cache) to the rules of its volumes: del, then add if any. */
  async #sync(mount: string, cache: string): Promise<void> {
    const records = (await this.records()).filter((r) => r.cache === cache);
    const rules = records.filter((r) => r.mount === mount).map((r) => r.rule).sort();
    const at = this.#deps.keeper ? keptPath(this.#deps.keeper, mount) : mount;
    // `del` without -k uncaches (detaches and removes) every copy in the cache directory: only
    // when its last volume on the node leaves. A rule is changed by del -k + add, keeping copies.
    const keep = rules.length > 0 || records.length > 0;
    // Absent already (first volume, or the mount was remounted): lctl exits 2, fine.
    await this.#run("lctl", ["pcc", "del", ...(keep ? ["-k"] : []), at, cache]);
    if (rules.length === 0) {
      this.#deps.logger.info("Detached PCC dataset {cache} from {mount}{copies}", {
        cache,
        mount,
        copies: keep ? " (copies kept for other mounts)" : ", its copies removed",
      });
      return;
    }
    const param = pccAddParam([...new Set(rules)], roidOf(cache));
    const result = await this.#run("lctl", ["pcc", "add", at, cache, "--param", param]);
    if (result.code !== 0) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `lctl pcc add ${at} ${cache} --param "${param}" failed with exit code ${result.code}: ` +
          (result.stderr || result.stdout).trim(),
      );
    }
    this.#deps.logger.info("Attached PCC dataset {cache} to {mount}: {param}", {
      cache,
      mount,
      param,
    });
  }

  /** The cache directory exists and is not inside a Lustre mount (as the host sees them). */
  async #checkCache(cache: string): Promise<void> {
    let real: string;
    try {
      real = await this.#dirs.realDirectory(cache);
    } catch (error) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `PCC cache directory "${cache}" (pccCache) is not a directory on this node: ` +
          `${(error as Error).message}; create it on a node-local file system (NVMe)`,
      );
    }
    const holding = (await this.#dirs.mountInfo())
      .filter((m) => real === m.mountPoint || real.startsWith(`${m.mountPoint}/`))
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (holding && /^(fuse\.)?lustre$/.test(holding.fsType)) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `PCC cache directory "${cache}" (pccCache) is inside the Lustre mount ` +
          `"${holding.mountPoint}": it must be on a node-local file system`,
      );
    }
  }

  async #run(command: string, args: readonly string[]): Promise<CommandResult> {
    const { keeper, runner, timeoutMs } = this.#deps;
    return keeper
      ? await keeper.run(command, args, timeoutMs)
      : await runner.run(command, args, { timeoutMs, check: false });
  }

  #recordPath(volumeId: string): string {
    const name = createHash("sha256").update(volumeId).digest("hex").slice(0, 32);
    return `${this.recordsDir}/${name}.json`;
  }

  async #read(path: string): Promise<PccRecord | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch {
      return undefined;
    }
  }
}
