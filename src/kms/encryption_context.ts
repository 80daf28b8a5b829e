/** The volume attributes of an encrypted volume, as CreateVolume wrote them. */
import type { KmsKind } from "./volume_keys.ts";

/** Volume-context keys (the same as controller/volume_encryption.ts writes). */
export const CONTEXT_ENCRYPTION = "encryption";
export const CONTEXT_KEY_IDENTIFIER = "encryptionKeyId";

/** Where the volume's key lives, and the fscrypt identifier of its directory's policy. */
export interface VolumeEncryption {
  readonly kms: KmsKind;
  readonly keyIdentifier: string;
}

/**
 * The encryption attributes: both or neither.
 * @throws TypeError naming the attribute and its value
 */
export function parseVolumeEncryption(
  context: Readonly<Record<string, string>>,
): { encryption?: VolumeEncryption } {
  const kms = context[CONTEXT_ENCRYPTION];
  const keyIdentifier = context[CONTEXT_KEY_IDENTIFIER];
  if (kms === undefined && keyIdentifier === undefined) return {};
  if (kms !== "kmip" && kms !== "secret") {
    throw new TypeError(
      `volume attribute "${CONTEXT_ENCRYPTION}" "${kms ?? ""}" is not kmip or secret`,
    );
  }
  if (keyIdentifier === undefined || !/^[0-9a-f]{32}$/.test(keyIdentifier)) {
    throw new TypeError(
      `volume attribute "${CONTEXT_KEY_IDENTIFIER}" "${keyIdentifier ?? ""}" is not 32 hex digits`,
    );
  }
  return { encryption: { kms, keyIdentifier } };
}
