/**
 * The controller's side of encrypted volumes: the class's KMS from the
 * request's secrets, the volume context that tells the nodes, and the
 * KMIP key's end at delete.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import { volumeKeysFrom } from "../kms/kms_secrets.ts";
import { kmsErrorCode } from "../kms/kms_errors.ts";
import type { KmsKind, VolumeKeys } from "../kms/volume_keys.ts";
import type { VolumeRecord } from "./records.ts";
import { CONTEXT_ENCRYPTION, CONTEXT_KEY_IDENTIFIER } from "../kms/encryption_context.ts";

/**
 * The KMS of an encrypted class, from CreateVolume's secrets.
 * @throws CsiError INVALID_ARGUMENT naming the missing or bad secret entry
 */
export function classKeys(
  name: string,
  kms: KmsKind,
  secrets: Readonly<Record<string, string>>,
  timeoutMs: number,
): VolumeKeys & { forget?: () => void } {
  try {
    return volumeKeysFrom(kms, secrets, { timeoutMs });
  } catch (error) {
    throw new CsiError(
      Code.INVALID_ARGUMENT,
      `Cannot create volume "${name}" of an encrypted class (kms: ${kms}): ` +
        `${
          (error as Error).message
        }; name the Secret with csi.storage.k8s.io/provisioner-secret-name ` +
        "and -namespace in the StorageClass",
    );
  }
}

/** What the nodes need to unlock the volume: its KMS and key identifier. */
export function encryptionContext(record: VolumeRecord): Record<string, string> {
  if (!record.encryption) return {};
  return {
    [CONTEXT_ENCRYPTION]: record.encryption.kms,
    [CONTEXT_KEY_IDENTIFIER]: record.encryption.keyIdentifier,
  };
}

/**
 * Destroys a deleted volume's key in the KMS.
 * @throws CsiError FAILED_PRECONDITION (secrets missing, KMS refused) or UNAVAILABLE (KMS down)
 */
export async function destroyVolumeKey(
  volumeId: string,
  kms: KmsKind,
  secrets: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<void> {
  let keys: VolumeKeys;
  try {
    keys = volumeKeysFrom(kms, secrets, { timeoutMs });
  } catch (error) {
    throw new CsiError(
      Code.FAILED_PRECONDITION,
      `Cannot delete volume "${volumeId}": its directory is gone but its key stays in the KMS: ` +
        `${(error as Error).message}; the StorageClass must name the Secret with ` +
        "csi.storage.k8s.io/provisioner-secret-name, which DeleteVolume gets too",
    );
  }
  try {
    await keys.destroy(volumeId);
  } catch (error) {
    throw new CsiError(
      kmsErrorCode(error),
      `Cannot delete volume "${volumeId}": its directory is gone but destroying its key in ` +
        `${keys.kms} failed: ${(error as Error).message}; the next DeleteVolume call tries again`,
      { cause: error },
    );
  }
}
