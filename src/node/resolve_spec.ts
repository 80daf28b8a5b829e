/**
 * The guard-block step that reads a node request's volume: volume_spec.ts
 * resolves it, and its errors become the CSI codes the handlers answer.
 */
import type { Config } from "../config.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import { type CallContext, invalidArgument, type MountRequest } from "../csi/requests.ts";
import { resolveVolume, UnknownVolumeError, type VolumeSpec } from "./volume_spec.ts";

/**
 * The volume's spec from the request's volume context and mount flags.
 * @throws CsiError NOT_FOUND (not one of this driver's volumes), INVALID_ARGUMENT
 */
export function resolveSpec(
  context: CallContext,
  request: { readonly volumeContext: Record<string, string> },
  options: {
    readonly access: MountRequest;
    readonly defaultMountOptions: Config["defaultMountOptions"];
  },
): VolumeSpec {
  try {
    return resolveVolume({
      volumeId: context.volumeId,
      volumeContext: request.volumeContext,
      mountFlags: options.access.mountFlags,
      defaultMountOptions: options.defaultMountOptions,
    });
  } catch (error) {
    if (error instanceof UnknownVolumeError) {
      throw new CsiError(
        Code.NOT_FOUND,
        `Cannot ${context.action} volume "${context.volumeId}": ${error.message}`,
      );
    }
    throw invalidArgument(context, (error as Error).message);
  }
}
