/**
 * Provisioning one volume. First the checks that need no change (the pool
 * exists, project quotas are on); then the record, written with state
 * "creating" under the file system's lock (controller/volume_fs.ts), with a
 * project ID from the allocator; then the directory with group,
 * mode, project ID, project quota and default striping; then the record
 * marked ready. Each step is safe to repeat, so the next CreateVolume call
 * after a failure or a restart resumes the job; while nothing was handed out
 * yet (state "creating"), a changed request takes the half-made volume over.
 */
import type { Config } from "../config.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import type { KeyedMutex } from "../keyed_mutex.ts";
import type { Logger } from "../log.ts";
import { withTimeout } from "../mount/path_health.ts";
import { encodeVolumeId, volumeDir, type VolumeLocation } from "../lustre/volume_id.ts";
import type { FileSystems } from "./controller_mounts.ts";
import { type ProvisionParams, volumeShape } from "./parameters.ts";
import type { RecordStore, VolumeRecord } from "./records.ts";
import type { VolumeFs } from "./volume_fs.ts";
import { setProject, setProjectQuota, setStriping } from "./lustre_tools.ts";
import { exists } from "./_exists.ts";
import type { Preflight } from "./preflight.ts";
import { describeDifferences } from "./shape_diff.ts";
import { stepFailure } from "./step_error.ts";
import type { Fscrypt } from "../crypto/fscrypt.ts";
import type { VolumeKeys } from "../kms/volume_keys.ts";
import { encryptDirectory } from "./encrypt_directory.ts";
import { kmsErrorCode } from "../kms/kms_errors.ts";

/** What provisioning needs. */
export interface ProvisionDeps {
  readonly config: Pick<Config, "commandTimeoutMs">;
  readonly mounts: FileSystems;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Serialises record allocation per file system name; one for all calls. */
  readonly allocation: KeyedMutex;
  /** The checks before the first change; one for all calls. */
  readonly preflight: Preflight;
  /** Directories ("fsname:/dir") a create is working on now; one for all calls. */
  readonly creating: Set<string>;
  /** fscrypt calls, for encrypted classes. */
  readonly fscrypt?: Fscrypt;
}

/** One volume to provision, as CreateVolume resolved it. */
export interface ProvisionRequest {
  readonly name: string;
  readonly params: ProvisionParams;
  readonly location: VolumeLocation;
  readonly capacityBytes: number;
  /** Where the key of an encrypted class's volume comes from. */
  readonly keys?: VolumeKeys;
}

/**
 * Creates the volume's directory, or finds the one an earlier identical
 * request made, and returns its ready record.
 * @throws CsiError ALREADY_EXISTS when the directory or record belongs to something else
 *   or was made with other parameters; INVALID_ARGUMENT for a pool that does not exist;
 *   FAILED_PRECONDITION, INVALID_ARGUMENT, UNAVAILABLE or DEADLINE_EXCEEDED naming the
 *   step that failed
 */
export async function provision(
  deps: ProvisionDeps,
  request: ProvisionRequest,
): Promise<VolumeRecord> {
  const { name, params, location } = request;
  const dir = volumeDir(location);
  const volumeId = encodeVolumeId(location);
  // Calls for one name are serialised by the caller; two names may map to one directory.
  const busy = `${params.source.fsName}:${dir}`;
  if (deps.creating.has(busy)) {
    throw new CsiError(
      Code.ABORTED,
      `Cannot create volume "${name}": another CreateVolume call is working on directory "${dir}"; retry later`,
    );
  }
  deps.creating.add(busy);
  try {
    return await create(deps, request, dir, volumeId);
  } finally {
    deps.creating.delete(busy);
  }
}

async function create(
  deps: ProvisionDeps,
  request: ProvisionRequest,
  dir: string,
  volumeId: string,
): Promise<VolumeRecord> {
  const { runner, logger } = deps;
  const timeoutMs = deps.config.commandTimeoutMs;
  const { name, params, capacityBytes } = request;
  const shape = volumeShape(params);
  return await deps.mounts.onFileSystem(params.source, async (mountPath, records, fs) => {
    const path = `${mountPath}${dir}`;
    const allocation = { ...request, dir, volumeId, shape, path, mountPath, timeoutMs, logger };
    // An identical retry of a finished create changes nothing and checks nothing.
    const done = await records.read(dir);
    if (done?.state === "ready") return matching(done, allocation);
    const warning = await deps.preflight.check(name, mountPath, params);
    // One allocation at a time per file system name in this process; the lock file for all processes.
    const record = await deps.allocation.run(
      params.source.fsName,
      () => fs.lock.run(() => allocate(fs, allocation)),
    );
    if (record.state === "ready") return record;
    const step = async (label: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        const failure = stepFailure(name, label, error, true);
        logger.warn("CreateVolume {volumeId} stopped at step {step}: {error}", {
          volumeId,
          step: label,
          error: failure.message,
        });
        throw failure;
      }
    };
    const { projectId } = record;
    await step(
      `mkdir ${dir}`,
      () => withTimeout(path, timeoutMs, () => Deno.mkdir(path, { recursive: true })),
    );
    // On the empty directory, before anything else: fscrypt refuses a directory with entries.
    let encryption: VolumeRecord["encryption"];
    if (params.encryption) {
      const { fscrypt } = deps;
      const keys = request.keys;
      if (!fscrypt || !keys) throw new Error("an encrypted class needs fscrypt and the KMS keys");
      const label = `encrypt ${dir} (key from ${keys.kms})`;
      await step(label, async () => {
        try {
          const keyIdentifier = await encryptDirectory(fscrypt, {
            name,
            volumeId,
            path,
            mountPath,
            keys,
          });
          encryption = { kms: params.encryption!.kms, keyIdentifier };
        } catch (error) {
          if (error instanceof CsiError) throw error;
          throw new CsiError(
            kmsErrorCode(error),
            `Cannot create volume "${name}": step "${label}" failed: ${(error as Error).message}` +
              '; the volume\'s record stays "creating" and the next CreateVolume call for it resumes there',
            { cause: error },
          );
        }
      });
    }
    if (params.gid !== undefined) {
      const gid = params.gid;
      await step(
        `chown :${gid} ${dir}`,
        () => withTimeout(path, timeoutMs, () => Deno.chown(path, null, gid)),
      );
    }
    // After mkdir and chown: mkdir(2) ignores setuid/setgid/sticky and applies the umask; chown may clear setgid.
    const mode = params.directoryMode.toString(8).padStart(4, "0");
    await step(
      `chmod ${mode} ${dir}`,
      () => withTimeout(path, timeoutMs, () => Deno.chmod(path, params.directoryMode)),
    );
    await step(
      `lfs project -p ${projectId} -s -r ${dir}`,
      () => setProject(runner, path, projectId, timeoutMs),
    );
    await step(
      `lfs setquota -p ${projectId} -B ${Math.ceil(capacityBytes / 1024)}k -I ${params.inodeQuota}`,
      () =>
        setProjectQuota(runner, mountPath, projectId, {
          bytes: capacityBytes,
          inodes: params.inodeQuota,
        }, timeoutMs),
    );
    await step(`lfs setstripe ${dir}`, () => setStriping(runner, path, params.striping, timeoutMs));
    const ready: VolumeRecord = {
      ...record,
      ...(encryption ? { encryption } : {}),
      state: "ready",
    };
    await step(
      "mark the record ready",
      () => markReady(deps, fs, params.source.fsName, record, ready),
    );
    logger.info("Provisioned {dir} on {source} with project {projectId}", {
      volumeId,
      dir,
      source: params.source.fsSource,
      projectId,
      capacityBytes,
    });
    if (warning) logger.warn("Provisioned {volumeId}, but {warning}", { volumeId, warning });
    return ready;
  });
}

/** A request with what provision() derived from it, for allocate(). */
interface Allocation extends ProvisionRequest {
  readonly dir: string;
  readonly volumeId: string;
  readonly shape: Record<string, unknown>;
  /** The volume's directory under the controller's mount. */
  readonly path: string;
  readonly mountPath: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * The volume's record: the existing one when it matches the request (or is
 * still "creating", then taken over with this request's parameters), else a
 * fresh "creating" record with an unused project ID.
 */
async function allocate(fs: VolumeFs, request: Allocation): Promise<VolumeRecord> {
  const { records } = fs;
  const { name, params, capacityBytes, dir, shape, logger } = request;
  const existing = await records.read(dir);
  if (existing?.state === "creating") {
    const changes = existing.name !== name
      ? [`volume name "${existing.name}" recorded, "${name}" requested`]
      : describeDifferences(existing, { capacityBytes, shape });
    if (changes.length === 0) return existing;
    // Never answered OK, so no PV points at it: this request may finish it its own way.
    const taken: VolumeRecord = {
      ...existing,
      name,
      volumeId: request.volumeId,
      capacityBytes,
      shape,
      onDelete: params.onDelete,
    };
    await writeRecord(records, taken);
    if (existing.name !== name) await records.forgetName(existing.name, dir);
    await records.nameDir(name, dir);
    logger.info("Resuming half-made volume {dir} with this request's parameters: {changes}", {
      volumeId: request.volumeId,
      dir,
      changes: changes.join("; "),
    });
    return taken;
  }
  if (existing) return matching(existing, request);
  // A parent in the way (a file) is not the directory; mkdir will say what is wrong.
  const found = await exists(request.path, request.timeoutMs).catch((error) => {
    if (error instanceof Deno.errors.NotADirectory) return false;
    throw stepFailure(name, `check that ${dir} is free`, error, false);
  });
  if (found) {
    throw new CsiError(
      Code.ALREADY_EXISTS,
      `Cannot create volume "${name}": directory "${dir}" exists on "${params.source.fsSource}" ` +
        "and was not made by klustre-csi",
    );
  }
  await dropStale(fs, request);
  let projectId: number;
  try {
    projectId = await fs.allocator.claim(params.projectIdMin, params.projectIdMax);
  } catch (error) {
    if (!(error instanceof RangeError)) {
      throw stepFailure(name, "allocate a project ID", error, false);
    }
    throw new CsiError(
      Code.RESOURCE_EXHAUSTED,
      `Cannot create volume "${name}": parameter "projectIdRange": ${(error as Error).message}`,
    );
  }
  const fresh: VolumeRecord = {
    version: 1,
    name,
    volumeId: request.volumeId,
    dir,
    projectId,
    capacityBytes,
    shape,
    onDelete: params.onDelete,
    state: "creating",
  };
  try {
    await records.nameDir(name, dir);
  } catch (error) {
    await fs.allocator.release(projectId).catch(() => undefined);
    throw stepFailure(name, "write the name index", error, false);
  }
  await writeRecord(records, fresh);
  return fresh;
}

/**
 * Marks the record ready under the lock, unless another controller changed
 * or removed it meanwhile (a removed record is never written back).
 */
async function markReady(
  deps: ProvisionDeps,
  fs: VolumeFs,
  fsName: string,
  record: VolumeRecord,
  ready: VolumeRecord,
): Promise<void> {
  await deps.allocation.run(fsName, () =>
    fs.lock.run(async () => {
      const now = await fs.records.read(record.dir);
      if (
        now?.state === "ready" && now.projectId === record.projectId && now.name === record.name
      ) {
        return;
      }
      if (
        now?.state !== "creating" || now.projectId !== record.projectId || now.name !== record.name
      ) {
        throw new CsiError(
          Code.ABORTED,
          `Cannot create volume "${record.name}": its record changed while it was being made ` +
            `(now ${now ? `"${now.state}" for "${now.name}"` : "gone"}); retry`,
        );
      }
      await fs.records.write(ready);
    }));
}

/** The existing ready, retained or archived record, if this request matches it. */
function matching(existing: VolumeRecord, request: Allocation): VolumeRecord {
  const { name, dir, capacityBytes, shape } = request;
  if (existing.state === "deleting") {
    throw new CsiError(
      Code.ABORTED,
      `Cannot create volume "${name}": directory "${dir}" belongs to volume "${existing.name}", ` +
        "which is being deleted; retry later",
    );
  }
  if (existing.name !== name) {
    throw new CsiError(
      Code.ALREADY_EXISTS,
      `Cannot create volume "${name}": directory "${dir}" already belongs to volume "${existing.name}"`,
    );
  }
  const changes = describeDifferences(existing, { capacityBytes, shape });
  if (changes.length > 0) {
    throw new CsiError(
      Code.ALREADY_EXISTS,
      `Cannot create volume "${name}": it exists with other parameters than this request: ` +
        changes.join("; "),
    );
  }
  if (existing.state === "retained" || existing.state === "archived") {
    throw new CsiError(
      Code.ALREADY_EXISTS,
      `Cannot create volume "${name}": its directory "${dir}" was ${existing.state} on delete`,
    );
  }
  return existing;
}

/**
 * Removes what an earlier failed create of the same name left in another
 * directory (the class's basePath or template changed since), found through
 * the name index: the record and its project ID, and the directory only
 * when it is empty.
 */
async function dropStale(fs: VolumeFs, request: Allocation) {
  const { records } = fs;
  const staleDir = await records.dirOfName(request.name);
  if (staleDir === undefined || staleDir === request.dir) return;
  const record = await records.read(staleDir);
  if (!record || record.name !== request.name || record.state !== "creating") return;
  const path = `${request.mountPath}${record.dir}`;
  try {
    await withTimeout(path, request.timeoutMs, () => Deno.remove(path));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      request.logger.warn(
        "Kept half-made directory {dir} of an earlier create of {volumeId}: {error}",
        { volumeId: request.volumeId, dir: record.dir, error: (error as Error).message },
      );
      return;
    }
  }
  await records.remove(record.dir);
  await fs.allocator.release(record.projectId);
  request.logger.info("Removed half-made volume {dir} of an earlier create of {name}", {
    name: request.name,
    dir: record.dir,
  });
}

async function writeRecord(records: RecordStore, record: VolumeRecord) {
  try {
    await records.write(record);
  } catch (error) {
    throw stepFailure(record.name, "write the record", error, false);
  }
}
