/**
 * Root squash, named: a Lustre server maps root of a client that is not
 * trusted (not in the MDT's `nosquash_nids`, or in a nodemap without the
 * `admin` property) to an unprivileged user, and then every step of the
 * controller fails with EACCES or EPERM. The check makes a directory as
 * root at the file system's root, looks at its owner and at chown, and
 * removes it; a squashed root is answered FAILED_PRECONDITION with the fix.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import { CommandFailedError } from "../exec/command_errors.ts";
import type { CommandRunner } from "../exec/command_runner.ts";
import { withTimeout } from "../mount/path_health.ts";

/**
 * Why root is squashed on the file system mounted at `mountPath`, or
 * undefined when it is not (or when the controller does not run as root).
 */
export async function rootSquashReason(
  mountPath: string,
  timeoutMs: number,
): Promise<string | undefined> {
  if (Deno.uid() !== 0) return undefined;
  // A directory of its own at the root, removed again: the check leaves nothing behind.
  const probe = `${mountPath}/.klustre-csi-root-check-${crypto.randomUUID().slice(0, 8)}`;
  const bounded = <T>(work: () => Promise<T>) => withTimeout(mountPath, timeoutMs, work);
  try {
    await bounded(() => Deno.mkdir(probe, { mode: 0o700 }));
  } catch (error) {
    if (isPermissionError(error)) {
      return `root cannot make a directory at the file system's root (${(error as Error).message})`;
    }
    throw error;
  }
  try {
    const { uid } = await bounded(() => Deno.lstat(probe));
    if (uid !== 0) return `a directory root makes is owned by uid ${uid}, not 0`;
    try {
      await bounded(() => Deno.chown(probe, 0, 0));
    } catch (error) {
      if (isPermissionError(error)) return `root may not chown (${(error as Error).message})`;
      throw error;
    }
    return undefined;
  } finally {
    await bounded(() => Deno.remove(probe)).catch(() => undefined);
  }
}

/** Whether `error` (or what it wraps) is EACCES or EPERM, from a call or an lfs run. */
export function isPermissionError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; e = (e as Error).cause, depth++) {
    if (e instanceof Deno.errors.PermissionDenied) return true;
    if (e instanceof CommandFailedError && (e.exitCode === 1 || e.exitCode === 13)) return true;
    if (
      /EPERM|EACCES|Operation not permitted|Permission denied|os error (1|13)\)/.test(String(e))
    ) {
      return true;
    }
  }
  return false;
}

/** The controller's LNet NIDs (`lctl list_nids`), or a placeholder when it cannot tell. */
export async function localNids(runner: CommandRunner, timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await runner.run("lctl", ["list_nids"], { timeoutMs });
    const nids = stdout.split("\n").map((l) => l.trim()).filter((l) => l);
    return nids.length > 0 ? nids.join(" ") : "(lctl list_nids printed none)";
  } catch {
    return "(see lctl list_nids on the controller's node)";
  }
}

/** The answer for a squashed root on file system `fsName`. */
export function rootSquashError(fsName: string, reason: string, nids: string, cause?: unknown) {
  return new CsiError(
    Code.FAILED_PRECONDITION,
    `File system "${fsName}" squashes root for this controller: ${reason}. The controller must ` +
      `act as root to make directories, set project IDs and quotas: add its NIDs (${nids}) to a ` +
      `nodemap with the admin and trusted properties ("lctl nodemap_modify --name NODEMAP ` +
      `--property admin --value 1", likewise trusted), or to the MDT's nosquash_nids ` +
      `("lctl set_param -P mdt.${fsName}-MDT*.nosquash_nids='NIDS'") on the MGS; see ` +
      `docs/provisioning.md#root-squash`,
    cause === undefined ? undefined : { cause },
  );
}

/** What the guard needs. */
export interface RootSquashGuardDeps {
  readonly runner: CommandRunner;
  readonly logger: { error(message: string, properties?: Record<string, unknown>): void };
  readonly timeoutMs: number;
}

/**
 * Checks each file system once before the first call works on it, and again
 * after a call fails with EACCES or EPERM; one for all calls.
 */
export class RootSquashGuard {
  readonly #deps: RootSquashGuardDeps;
  /** File systems where root was seen unsquashed. */
  readonly #fine = new Set<string>();

  constructor(deps: RootSquashGuardDeps) {
    this.#deps = deps;
  }

  /**
   * Runs `work` on the file system `fsName` mounted at `mountPath`.
   * @throws CsiError FAILED_PRECONDITION when root is squashed there
   */
  async run<T>(fsName: string, mountPath: string, work: () => Promise<T>): Promise<T> {
    if (!this.#fine.has(fsName)) await this.#check(fsName, mountPath);
    try {
      return await work();
    } catch (error) {
      if (!isPermissionError(error)) throw error;
      this.#fine.delete(fsName);
      await this.#check(fsName, mountPath, error);
      throw error;
    }
  }

  async #check(fsName: string, mountPath: string, cause?: unknown): Promise<void> {
    const { timeoutMs, runner, logger } = this.#deps;
    const reason = await rootSquashReason(mountPath, timeoutMs).catch(() => undefined);
    if (reason === undefined) {
      this.#fine.add(fsName);
      return;
    }
    const error = rootSquashError(fsName, reason, await localNids(runner, timeoutMs), cause);
    logger.error("{error}", { fsName, error: error.message });
    throw error;
  }
}
