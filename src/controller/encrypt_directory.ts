/**
 * The encryption step of CreateVolume: the volume's key is made (or found
 * again) in the KMS, added to the controller's mount for as long as the
 * policy takes to set, and the fscrypt v2 policy is set on the new empty
 * directory. Repeating it on a directory that already has the policy of
 * this key changes nothing.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import { type Fscrypt, isExpectedPolicy } from "../crypto/fscrypt.ts";
import { fscryptKeyIdentifier, type VolumeKeys } from "../kms/volume_keys.ts";

/** One directory to encrypt. */
export interface EncryptRequest {
  readonly name: string;
  readonly volumeId: string;
  /** The new directory under the controller's mount. */
  readonly path: string;
  /** The controller's mount of the file system (keys are added there). */
  readonly mountPath: string;
  readonly keys: VolumeKeys;
}

/**
 * Sets the policy; returns the key identifier (32 hex digits).
 * @throws CsiError FAILED_PRECONDITION when the directory has another policy; what the KMS and
 *   fscrypt calls throw
 */
export async function encryptDirectory(fscrypt: Fscrypt, request: EncryptRequest): Promise<string> {
  const { name, path, mountPath, keys, volumeId } = request;
  const key = await keys.create(volumeId);
  let identifier: string;
  try {
    identifier = await fscryptKeyIdentifier(key);
    const existing = await fscrypt.policy(path);
    if (existing) {
      if (isExpectedPolicy(existing) && existing.identifier === identifier) return identifier;
      throw new CsiError(
        Code.FAILED_PRECONDITION,
        `Cannot create volume "${name}": its directory is already encrypted with key ` +
          `${existing.identifier}, not with the key ${identifier} from ${keys.kms}`,
      );
    }
    const added = await fscrypt.addKey(mountPath, key);
    if (added !== identifier) {
      throw new Error(`the kernel named the key ${added}, not ${identifier}`);
    }
  } finally {
    key.fill(0);
  }
  try {
    await fscrypt.setPolicy(path, identifier);
  } finally {
    // The controller never reads the data: the key stays only while the policy is set.
    await fscrypt.removeKey(mountPath, identifier);
  }
  return identifier;
}
