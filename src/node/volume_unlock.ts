/**
 * The node's side of encrypted volumes. Stage: the volume's key is fetched
 * from its KMS (with the node-stage secrets), checked against the fscrypt
 * policy of the volume's directory, and added to the shared Lustre mount
 * before the directory is bound; a wrong or missing key adds nothing and
 * binds nothing. Unstage: when no other mount on the node shows a
 * directory of that key any more, the key is removed from the file system.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import type { Fscrypt } from "../crypto/fscrypt.ts";
import type { Logger } from "../log.ts";
import { volumeKeysFrom } from "../kms/kms_secrets.ts";
import { kmsErrorCode } from "../kms/kms_errors.ts";
import { fscryptKeyIdentifier, type VolumeKeys } from "../kms/volume_keys.ts";
import type { VolumeEncryption } from "../kms/encryption_context.ts";

/** What unlocking and locking need. */
export interface VolumeUnlockDeps {
  readonly fscrypt: Fscrypt;
  readonly logger: Logger;
  /** Bound of each KMS request. */
  readonly kmsTimeoutMs: number;
}

/** One volume to unlock on a shared mount. */
export interface UnlockRequest {
  readonly volumeId: string;
  /** The shared Lustre mount's path, and the volume's directory inside the file system. */
  readonly mountPath: string;
  readonly dir: string;
  readonly encryption: VolumeEncryption;
  readonly secrets: Readonly<Record<string, string>>;
  /** The StorageClass parameter naming the Secret that `secrets` came from (default node-stage-secret). */
  readonly secretsFrom?: "node-stage-secret" | "node-publish-secret";
}

/**
 * Adds the volume's key to the shared mount's file system.
 * @throws CsiError FAILED_PRECONDITION (wrong or missing key, secrets, policy), UNAVAILABLE (KMS down or slow), NOT_FOUND (no directory)
 */
export async function unlockVolume(deps: VolumeUnlockDeps, request: UnlockRequest): Promise<void> {
  const { fscrypt, logger } = deps;
  const { volumeId, mountPath, dir, encryption, secrets } = request;
  const path = `${mountPath}${dir === "/" ? "" : dir}`;
  const fail = (code: Code, detail: string, cause?: unknown) =>
    new CsiError(code, `Cannot stage encrypted volume "${volumeId}": ${detail}`, { cause });
  let policy;
  try {
    policy = await fscrypt.policy(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") throw fail(Code.NOT_FOUND, `directory "${dir}" does not exist`, error);
    throw fail(
      kmsErrorCode(error),
      `cannot read the encryption policy of "${dir}": ${(error as Error).message}`,
      error,
    );
  }
  if (!policy) {
    throw fail(
      Code.FAILED_PRECONDITION,
      `directory "${dir}" is not encrypted, though the volume says it is`,
    );
  }
  if (policy.identifier !== encryption.keyIdentifier) {
    throw fail(
      Code.FAILED_PRECONDITION,
      `directory "${dir}" is encrypted with key ${policy.identifier}, not with key ` +
        `${encryption.keyIdentifier} of the volume`,
    );
  }
  let keys: VolumeKeys;
  try {
    keys = volumeKeysFrom(encryption.kms, secrets, { timeoutMs: deps.kmsTimeoutMs });
  } catch (error) {
    throw fail(
      Code.FAILED_PRECONDITION,
      `no key source (kms: ${encryption.kms}): ${
        (error as Error).message
      }; the StorageClass must ` +
        `name the Secret with csi.storage.k8s.io/${
          request.secretsFrom ?? "node-stage-secret"
        }-name and -namespace`,
    );
  }
  let key: Uint8Array;
  try {
    key = await keys.fetch(volumeId);
  } catch (error) {
    throw fail(
      kmsErrorCode(error),
      `fetching its key from ${keys.kms} failed: ${(error as Error).message}`,
      error,
    );
  } finally {
    (keys as { forget?: () => void }).forget?.();
  }
  try {
    const identifier = await fscryptKeyIdentifier(key);
    if (identifier !== policy.identifier) {
      throw fail(
        Code.FAILED_PRECONDITION,
        `the key from ${keys.kms} is the wrong key: its identifier is ${identifier}, the directory ` +
          `needs ${policy.identifier}; nothing was added or mounted`,
      );
    }
    await fscrypt.addKey(mountPath, key);
  } catch (error) {
    if (error instanceof CsiError) throw error;
    throw fail(kmsErrorCode(error), `adding its key failed: ${(error as Error).message}`, error);
  } finally {
    key.fill(0);
  }
  logger.info("Unlocked encrypted volume {volumeId} with its key from {kms}", {
    volumeId,
    kms: keys.kms,
    keyIdentifier: policy.identifier,
  });
}

/**
 * After an unstage: removes key `identifier` from the file system (the
 * call is made on `onFileSystem`, the shared mount) unless another staging
 * path in `stillStaged` uses it. Files still open are reported.
 */
export async function lockIfUnused(
  deps: VolumeUnlockDeps,
  request: {
    readonly volumeId: string;
    readonly identifier: string;
    /** Key identifiers of the volumes still staged on the node. */
    readonly stillStaged: readonly string[];
    readonly onFileSystem: string;
  },
): Promise<void> {
  const { volumeId, identifier } = request;
  if (request.stillStaged.includes(identifier)) return;
  const removal = await deps.fscrypt.removeKey(request.onFileSystem, identifier);
  if (removal.filesBusy) {
    deps.logger.warn(
      "Removed the key of volume {volumeId}, but files still open keep their contents readable " +
        "until they are closed",
      { volumeId, keyIdentifier: identifier },
    );
  } else if (removal.removed) {
    deps.logger.info("Removed the key of volume {volumeId} from the node", {
      volumeId,
      keyIdentifier: identifier,
    });
  }
}
