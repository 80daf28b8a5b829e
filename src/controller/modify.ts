/**
 * ControllerModifyVolume, for Kubernetes' VolumeAttributesClass: the
 * parameters that can change on a live directory (inode limit, default
 * striping of new files, directory mode) are applied under the file
 * system's lock and recorded, so expand and later changes build on them.
 * Every other parameter is refused by name.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { Logger } from "../log.ts";
import { withTimeout } from "../mount/path_health.ts";
import { volumeDir, type VolumeLocation } from "../lustre/volume_id.ts";
import type { FileSystems } from "./controller_mounts.ts";
import { listPools, setProjectQuota, setStriping } from "./lustre_tools.ts";
import { parseParameters, type Striping } from "./parameters.ts";
import type { VolumeRecord } from "./records.ts";
import { readyRecord } from "./ready_record.ts";
import { stepCode } from "./step_error.ts";

/** The StorageClass parameters a VolumeAttributesClass may set and change. */
export const MUTABLE_PARAMETERS = [
  "inodeQuota",
  "stripeCount",
  "stripeSize",
  "pool",
  "directoryMode",
] as const;

/** The changes a VolumeAttributesClass asks for; a key absent stays as it is. */
export interface VolumeChanges {
  readonly inodeQuota?: number;
  /** Striping keys given (a value undefined clears that key). */
  readonly striping?: Partial<Record<keyof Striping, number | string | undefined>>;
  readonly directoryMode?: number;
}

/**
 * Checks mutable parameters: only MUTABLE_PARAMETERS, each valid.
 * @throws TypeError naming the parameter
 */
export function parseMutableParameters(mutable: Readonly<Record<string, string>>): VolumeChanges {
  for (const key of Object.keys(mutable)) {
    if (!(MUTABLE_PARAMETERS as readonly string[]).includes(key)) {
      throw new TypeError(
        `parameter "${key}" cannot be set by a VolumeAttributesClass: it cannot change on a ` +
          `live volume (those that can: ${MUTABLE_PARAMETERS.join(", ")})`,
      );
    }
  }
  // The StorageClass checks, on a stand-in source.
  const { params } = parseParameters({ source: "0@lo:/vac", ...mutable });
  const striping: Record<string, number | string | undefined> = {};
  if ("stripeCount" in mutable) striping.count = params.striping.count;
  if ("stripeSize" in mutable) striping.size = params.striping.size;
  if ("pool" in mutable) striping.pool = params.striping.pool;
  return {
    ...("inodeQuota" in mutable ? { inodeQuota: params.inodeQuota } : {}),
    ...(Object.keys(striping).length > 0 ? { striping } : {}),
    ...("directoryMode" in mutable ? { directoryMode: params.directoryMode } : {}),
  };
}

/** What modifying needs. */
export interface ModifyDeps {
  readonly mounts: FileSystems;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

/**
 * Applies `changes` to the volume and records them.
 * @throws CsiError NOT_FOUND for a volume that does not exist, INVALID_ARGUMENT for a
 *   pool the file system lacks, or the code of the step that failed
 */
export async function modifyVolume(
  deps: ModifyDeps,
  volumeId: string,
  location: VolumeLocation,
  changes: VolumeChanges,
): Promise<void> {
  const { runner, logger, timeoutMs } = deps;
  const dir = volumeDir(location);
  await deps.mounts.onFileSystem(
    location.source,
    (mountPath, records, fs) =>
      fs.lock.run(async () => {
        const record = await readyRecord(records, dir, volumeId, "modify");
        const path = `${mountPath}${dir}`;
        const shape = { ...record.shape };
        const step = async (label: string, work: () => Promise<unknown>) => {
          try {
            await work();
          } catch (error) {
            if (error instanceof CsiError) throw error;
            throw new CsiError(
              stepCode(error),
              `Cannot modify volume "${volumeId}": step "${label}" failed: ${
                (error as Error).message
              }`,
              { cause: error },
            );
          }
        };
        if (changes.inodeQuota !== undefined && changes.inodeQuota !== shape.inodeQuota) {
          const inodes = changes.inodeQuota;
          await step(
            `lfs setquota -p ${record.projectId} -I ${inodes}`,
            () =>
              setProjectQuota(runner, mountPath, record.projectId, {
                bytes: record.capacityBytes,
                inodes,
              }, timeoutMs),
          );
          shape.inodeQuota = inodes;
        }
        if (changes.striping) {
          const before = (shape.striping ?? {}) as Record<string, unknown>;
          const merged: Record<string, unknown> = { ...before, ...changes.striping };
          for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
          const striping = merged as Striping;
          if (JSON.stringify(sorted(before)) !== JSON.stringify(sorted(merged))) {
            if (striping.pool !== undefined && striping.pool !== before.pool) {
              await requirePool(deps, mountPath, location, volumeId, striping.pool);
            }
            // Replace the default layout: clear it, then set what the class gives (if anything).
            await step(
              `lfs setstripe -d ${dir}`,
              () => runner.run("lfs", ["setstripe", "-d", path], { timeoutMs }),
            );
            await step(
              `lfs setstripe ${dir}`,
              () => setStriping(runner, path, striping, timeoutMs),
            );
            shape.striping = striping;
          }
        }
        if (changes.directoryMode !== undefined) {
          const mode = changes.directoryMode;
          const text = mode.toString(8).padStart(4, "0");
          await step(
            `chmod ${text} ${dir}`,
            () => withTimeout(path, timeoutMs, () => Deno.chmod(path, mode)),
          );
          shape.directoryMode = text;
        }
        const updated: VolumeRecord = { ...record, shape };
        if (JSON.stringify(updated) === JSON.stringify(record)) return;
        await step("write the record", () => records.write(updated));
        logger.info("Modified {volumeId}: {changes}", {
          volumeId,
          changes: JSON.stringify(changes),
        });
      }),
  );
}

async function requirePool(
  deps: ModifyDeps,
  mountPath: string,
  location: VolumeLocation,
  volumeId: string,
  pool: string,
) {
  let pools: string[];
  try {
    pools = await listPools(deps.runner, mountPath, location.source.fsName, deps.timeoutMs);
  } catch (error) {
    throw new CsiError(
      stepCode(error),
      `Cannot modify volume "${volumeId}": step "lfs pool_list" failed: ${
        (error as Error).message
      }`,
    );
  }
  if (!pools.includes(pool)) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot modify volume "${volumeId}": parameter "pool" "${pool}": file system ` +
        `"${location.source.fsName}" has no pool "${pool}" (its pools: ${
          pools.join(", ") || "none"
        })`,
    );
  }
}

function sorted(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}
