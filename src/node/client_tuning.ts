/**
 * Applies a shared mount's client tunables (`lustreParams`) to its own
 * client instance: `lfs getname` names the instance, `lctl set_param` sets
 * `llite.<fs>-<instance>.*` and `osc.<fs>-*-osc-<instance>.*`. Each mount
 * (by mount ID, so a remounted one is tuned again) is tuned once; what was
 * applied is written to `<stateDir>/client-params/<mount>.json` for the
 * doctor and the metrics.
 */
import type { CommandResult, CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import type { MountKeeper } from "../mount/mount_namespace.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import {
  type ClientParam,
  formatClientParam,
  parseInstance,
  setParamArgs,
} from "../lustre/client_params.ts";
import { keptPath } from "./kept_mounts.ts";

/** Folder below the state dir holding one record per tuned shared mount. */
export const CLIENT_PARAMS_FOLDER = "client-params";

/** What the tuner needs. */
export interface ClientTuningDeps {
  readonly runner: CommandRunner;
  readonly logger: Logger;
  readonly stateDir: string;
  readonly timeoutMs: number;
  /** When set, the Lustre mounts live in the keeper and the tools run there. */
  readonly keeper?: MountKeeper;
}

/** What was applied to one shared mount, as written for the doctor and the metrics. */
export interface TuningRecord {
  /** The shared mount's directory name, e.g. `fs1-0123456789abcdef`. */
  readonly mount: string;
  readonly fs: string;
  readonly instance: string;
  /** Canonical `llite.max_read_ahead_mb=1024` entries. */
  readonly params: readonly string[];
}

/** Tunes shared mounts once per mount. */
export class ClientTuning {
  readonly #deps: ClientTuningDeps;
  /** Shared mount path -> mount ID it was tuned at. */
  readonly #tuned = new Map<string, number>();

  constructor(deps: ClientTuningDeps) {
    this.#deps = deps;
  }

  /** Directory of the tuning records. */
  get recordsDir(): string {
    return `${this.#deps.stateDir}/${CLIENT_PARAMS_FOLDER}`;
  }

  /**
   * Sets `params` on the instance of the shared mount at `path`, unless this
   * mount (same mount ID) was tuned already.
   * @throws CsiError FAILED_PRECONDITION naming the lctl error
   */
  async apply(
    mount: { readonly path: string; readonly info: MountInfo },
    tunables: { readonly fsName: string; readonly params: readonly ClientParam[] },
  ): Promise<void> {
    const { path, info } = mount;
    const { fsName, params } = tunables;
    if (params.length === 0 || this.#tuned.get(path) === info.id) return;
    const { keeper } = this.#deps;
    const at = keeper ? keptPath(keeper, path) : path;
    const named = await this.#run("lfs", ["getname", at]);
    const instance = parseInstance(fsName, named.stdout);
    await this.#run("lctl", setParamArgs({ fsName, instance }, params));
    const name = path.slice(path.lastIndexOf("/") + 1);
    const record: TuningRecord = {
      mount: name,
      fs: fsName,
      instance,
      params: params.map(formatClientParam),
    };
    await Deno.mkdir(this.recordsDir, { recursive: true });
    await Deno.writeTextFile(`${this.recordsDir}/${name}.json`, JSON.stringify(record));
    this.#tuned.set(path, info.id);
    this.#deps.logger.info("Applied client tunables {params} to Lustre instance {instance}", {
      params: record.params.join(","),
      instance: `${fsName}-${instance}`,
      path,
    });
  }

  /** Forgets a released shared mount (its record goes too). */
  async forget(path: string): Promise<void> {
    this.#tuned.delete(path);
    const name = path.slice(path.lastIndexOf("/") + 1);
    await Deno.remove(`${this.recordsDir}/${name}.json`).catch(() => undefined);
  }

  /** Runs a client tool where the Lustre mounts are; a failure names the command. */
  async #run(command: string, args: readonly string[]): Promise<CommandResult> {
    const { keeper, runner, timeoutMs } = this.#deps;
    const result = keeper
      ? await keeper.run(command, args, timeoutMs)
      : await runner.run(command, args, { timeoutMs, check: false });
    if (result.code !== 0) {
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot apply the client tunables: ${command} ${args.join(" ")} failed with exit code ` +
          `${result.code}: ${(result.stderr || result.stdout).trim()}`,
      );
    }
    return result;
  }
}

/** Every tuning record under `stateDir` (unreadable ones are skipped). */
export async function readTuningRecords(stateDir: string): Promise<TuningRecord[]> {
  const dir = `${stateDir}/${CLIENT_PARAMS_FOLDER}`;
  const records: TuningRecord[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !entry.name.endsWith(".json")) continue;
      try {
        records.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
      } catch {
        // a record being written or a stray file
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return records.sort((a, b) => a.mount < b.mount ? -1 : a.mount > b.mount ? 1 : 0);
}
