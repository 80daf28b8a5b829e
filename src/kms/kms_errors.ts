/** The CSI code for a failure of the KMS or of fscrypt. */
import { Code, CsiError } from "../csi/csi_error.ts";
import { FscryptError, FscryptTimeoutError } from "../crypto/fscrypt.ts";
import { KmipUnavailableError } from "./kmip_client.ts";
import { KmipError } from "./kmip_messages.ts";
import { KeyMissingError } from "./volume_keys.ts";

/**
 * UNAVAILABLE for what may pass (KMS unreachable or slow, an ioctl that did
 * not answer), FAILED_PRECONDITION for what needs a person (missing key or
 * secret, a server's refusal, a file system without encryption).
 */
export function kmsErrorCode(error: unknown): Code {
  if (error instanceof CsiError) return error.code;
  if (error instanceof KmipUnavailableError || error instanceof FscryptTimeoutError) {
    return Code.UNAVAILABLE;
  }
  if (
    error instanceof KmipError || error instanceof KeyMissingError ||
    error instanceof FscryptError || error instanceof TypeError
  ) {
    return Code.FAILED_PRECONDITION;
  }
  return Code.INTERNAL;
}
