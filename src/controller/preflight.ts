/**
 * The checks CreateVolume makes before its first change to a file system:
 * a StorageClass `pool` must exist there (else INVALID_ARGUMENT listing the
 * pools that do), and project quotas should be enabled (else a warning: the
 * volume works but its capacity is not enforced).
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import type { LustreSource } from "../lustre/source.ts";
import { listPools, projectQuotaState } from "./lustre_tools.ts";
import type { ProvisionParams } from "./parameters.ts";
import { stepFailure } from "./step_error.ts";
import { compressionRefusal } from "../lustre/compression.ts";
import { parseVersion } from "../lustre/client_check.ts";

/** How long an "enabled" answer of the quota check is trusted, per file system. */
const QUOTA_ENABLED_TTL_MS = 5 * 60_000;

/** What the checks need. */
export interface PreflightDeps {
  readonly runner: CommandRunner;
  readonly logger: Logger;
  readonly config: { readonly commandTimeoutMs: number };
  /** Clock for the quota check's cache (default: performance.now). */
  readonly nowMs?: () => number;
}

/** Checks a file system before a create changes it; one for all calls. */
export class Preflight {
  readonly #deps: PreflightDeps;
  /** File system name -> when project quotas were last seen enabled. */
  readonly #quotaSeen = new Map<string, number>();
  /** File system name -> the quota check running now. */
  readonly #quotaChecks = new Map<string, ReturnType<typeof projectQuotaState>>();

  constructor(deps: PreflightDeps) {
    this.#deps = deps;
  }

  /**
   * Runs the checks on the file system mounted at `mountPath`; returns a
   * warning for the log when the volume will work but not as asked.
   * @throws CsiError INVALID_ARGUMENT for a pool that does not exist
   */
  async check(
    name: string,
    mountPath: string,
    params: ProvisionParams,
  ): Promise<string | undefined> {
    const { runner } = this.#deps;
    const timeoutMs = this.#deps.config.commandTimeoutMs;
    const compression = params.striping.compression;
    if (compression !== undefined) {
      const version = await runner.run("lctl", ["get_param", "-n", "version"], { timeoutMs })
        .then((r) => parseVersion(r.stdout), () => "");
      const refusal = compressionRefusal(compression, version);
      if (refusal) {
        throw new CsiError(Code.FAILED_PRECONDITION, `Cannot create volume "${name}": ${refusal}`);
      }
    }
    const pool = params.striping.pool;
    if (pool !== undefined) {
      let pools: string[];
      try {
        pools = await listPools(runner, mountPath, params.source.fsName, timeoutMs);
      } catch (error) {
        throw stepFailure(name, "check the pool (lfs pool_list)", error, false);
      }
      if (!pools.includes(pool)) throw missingPool(name, pool, params.source, pools);
    }
    return await this.#quotaWarning(mountPath, params.source);
  }

  async #quotaWarning(mountPath: string, source: LustreSource): Promise<string | undefined> {
    const now = (this.#deps.nowMs ?? (() => performance.now()))();
    const seen = this.#quotaSeen.get(source.fsName);
    if (seen !== undefined && now - seen < QUOTA_ENABLED_TTL_MS) return undefined;
    // Concurrent creates on one file system share one check.
    let pending = this.#quotaChecks.get(source.fsName);
    if (!pending) {
      pending = projectQuotaState(this.#deps.runner, mountPath, this.#deps.config.commandTimeoutMs)
        .finally(() => this.#quotaChecks.delete(source.fsName));
      this.#quotaChecks.set(source.fsName, pending);
    }
    const state = await pending;
    if (state === "enabled") {
      this.#quotaSeen.set(source.fsName, now);
      return undefined;
    }
    if (state === "disabled") {
      return `project quotas are not enabled on file system "${source.fsName}" ` +
        `(${source.fsSource}): the volume is made, but its capacity is not enforced and df ` +
        `shows the whole file system; enable them on the MGS with ` +
        `"lctl conf_param ${source.fsName}.quota.mdt=ugp" and ` +
        `"lctl conf_param ${source.fsName}.quota.ost=ugp"`;
    }
    this.#deps.logger.debug("Could not tell whether project quotas are enabled on {fsName}", {
      fsName: source.fsName,
      error: state.unknown,
    });
    return undefined;
  }
}

function missingPool(name: string, pool: string, source: LustreSource, pools: string[]) {
  const known = pools.length === 0
    ? "it has no pools (omit the parameter to use the file system's default layout)"
    : `its pools: ${pools.join(", ")}`;
  return new CsiError(
    Code.INVALID_ARGUMENT,
    `Cannot create volume "${name}": parameter "pool" "${pool}": file system ` +
      `"${source.fsName}" (${source.fsSource}) has no pool "${pool}"; ${known}. ` +
      "Nothing was made; fix the StorageClass (delete and re-create it) and the claim is retried",
  );
}
