/** The StorageClass parameters of encrypted volumes: `encryption` and `kms`. */
import type { KmsKind } from "../kms/volume_keys.ts";

/** An encrypted class: its volumes' keys come from `kms`. */
export interface EncryptionParams {
  readonly kms: KmsKind;
}

/**
 * `encryption` "true" or "false"; `kms` "kmip" or "secret", required with
 * encryption and refused without it.
 * @throws TypeError naming the parameter and its value
 */
export function parseEncryption(
  encryption: string,
  kms: string,
): { encryption?: EncryptionParams } {
  if (encryption !== "true" && encryption !== "false") {
    throw new TypeError(`parameter "encryption" "${encryption}" is not "true" or "false"`);
  }
  if (encryption === "false") {
    if (kms !== "") {
      throw new TypeError(`parameter "kms" "${kms}" needs parameter "encryption" "true"`);
    }
    return {};
  }
  if (kms !== "kmip" && kms !== "secret") {
    throw new TypeError(
      kms === ""
        ? 'parameter "kms" is required with "encryption" "true": use kmip or secret'
        : `parameter "kms" "${kms}" is not one of kmip, secret`,
    );
  }
  return { encryption: { kms } };
}
