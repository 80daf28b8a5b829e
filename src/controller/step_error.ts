/**
 * Turns the failure of one CreateVolume step into an answer the provisioner
 * can show as an event: a CSI code chosen by the cause and a message naming
 * the step and the command's own error, never INTERNAL for what a file
 * system or a tool can do.
 */
import { Code, CsiError } from "../csi/csi_error.ts";
import {
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
} from "../exec/command_errors.ts";
import { PathTimeoutError } from "../mount/path_health.ts";

/** errnos (as exit codes of lfs, or in Deno error messages) that mean "try again later". */
const TRANSIENT_ERRNOS = new Set([5, 11, 107, 108, 110, 116]);
const TRANSIENT_NAMES =
  /ENOTCONN|ESTALE|EIO|ESHUTDOWN|ETIMEDOUT|EAGAIN|Transport endpoint|Stale file handle|Input\/output error/;

/** The CSI code for a failed step's cause. */
export function stepCode(cause: unknown): Code {
  if (cause instanceof CsiError) return cause.code;
  if (cause instanceof CommandTimeoutError || cause instanceof PathTimeoutError) {
    return Code.DEADLINE_EXCEEDED;
  }
  if (cause instanceof CommandNotFoundError) return Code.FAILED_PRECONDITION;
  if (cause instanceof CommandFailedError) {
    if (cause.exitCode === 22) return Code.INVALID_ARGUMENT;
    if (TRANSIENT_ERRNOS.has(cause.exitCode)) return Code.UNAVAILABLE;
    return Code.FAILED_PRECONDITION;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  const osError = /os error (\d+)/.exec(message);
  const errno = (cause as { code?: unknown })?.code;
  if (
    (osError && TRANSIENT_ERRNOS.has(Number(osError[1]))) ||
    TRANSIENT_NAMES.test(`${message} ${typeof errno === "string" ? errno : ""}`)
  ) {
    return Code.UNAVAILABLE;
  }
  if (cause instanceof Error && cause.constructor.name in Deno.errors) {
    return Code.FAILED_PRECONDITION;
  }
  if (osError) return Code.FAILED_PRECONDITION;
  return Code.INTERNAL;
}

/** The failure of `step` while creating volume `name`, with what a retry will do. */
export function stepFailure(name: string, step: string, cause: unknown, resumable: boolean) {
  if (cause instanceof CsiError) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  const next = resumable
    ? '; the volume\'s record stays "creating" and the next CreateVolume call for it resumes there'
    : "";
  return new CsiError(
    stepCode(cause),
    `Cannot create volume "${name}": step "${step}" failed: ${detail}${next}`,
    { cause },
  );
}
