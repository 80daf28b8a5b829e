/** The one mapping from errors to gRPC status codes. */
import { Code, CsiError } from "../csi/csi_error.ts";
import { OperationError } from "../csi/operation_error.ts";
import { LockBusyError } from "../locks.ts";
import { CommandNotFoundError, CommandTimeoutError } from "../exec/command_errors.ts";
import { LustreMountError, MOUNT_LUSTRE_EXIT } from "../lustre/lustre_mount_error.ts";
import { MountError, MountTimeoutError } from "../mount/mounter.ts";
import { PathTimeoutError } from "../mount/path_health.ts";
import { LustreClientNotReadyError } from "../lustre/client_state.ts";
import { FsGateBusyError, FsNotAnsweringError } from "../mount/fs_gate.ts";

/** What the client is told. */
export interface ErrorStatus {
  readonly code: Code;
  readonly message: string;
}

/** Maps any thrown value to a status; unknown errors become INTERNAL. */
export function errorStatus(error: unknown, call: { volumeId?: string } = {}): ErrorStatus {
  if (error instanceof CsiError) return { code: error.code, message: error.message };
  if (error instanceof LockBusyError) {
    const what = error.key.replace(/^[a-z]+:/, "");
    const volume = call.volumeId ? ` "${call.volumeId}"` : "";
    return {
      code: Code.ABORTED,
      message:
        `Operation pending for volume${volume}: another call is working on "${what}"; retry later`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof OperationError ? error.cause : error;
  return { code: codeOf(cause), message: message || "Internal error" };
}

function codeOf(cause: unknown): Code {
  if (cause instanceof CsiError) return cause.code;
  if (
    cause instanceof CommandTimeoutError || cause instanceof MountTimeoutError ||
    cause instanceof PathTimeoutError
  ) {
    return Code.DEADLINE_EXCEEDED;
  }
  if (cause instanceof FsNotAnsweringError || cause instanceof FsGateBusyError) {
    return Code.UNAVAILABLE;
  }
  if (cause instanceof CommandNotFoundError || cause instanceof LustreClientNotReadyError) {
    return Code.FAILED_PRECONDITION;
  }
  if (cause instanceof LustreMountError) return lustreMountCode(cause.exitCode);
  if (cause instanceof MountError) return errnoCode(cause.errno);
  return Code.INTERNAL;
}

/** mount.lustre exits with an errno; map it to what the CO should do. */
function lustreMountCode(exitCode: number): Code {
  switch (exitCode) {
    case MOUNT_LUSTRE_EXIT.ENOENT:
      return Code.NOT_FOUND;
    case MOUNT_LUSTRE_EXIT.EIO:
    case MOUNT_LUSTRE_EXIT.ESHUTDOWN:
    case MOUNT_LUSTRE_EXIT.ETIMEDOUT:
      return Code.UNAVAILABLE;
    case MOUNT_LUSTRE_EXIT.ENODEV:
    case MOUNT_LUSTRE_EXIT.EPERM:
      return Code.FAILED_PRECONDITION;
    case MOUNT_LUSTRE_EXIT.EINVAL:
      return Code.INVALID_ARGUMENT;
    default:
      return Code.INTERNAL;
  }
}

function errnoCode(errno: string): Code {
  switch (errno) {
    case "ENOENT":
      return Code.NOT_FOUND;
    case "ENOTCONN":
    case "ESTALE":
    case "EIO":
    case "ESHUTDOWN":
      return Code.UNAVAILABLE;
    default:
      return Code.INTERNAL;
  }
}
