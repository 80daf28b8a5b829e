/** mount.lustre failed; its exit code is the errno of the failure. */
import { summarize } from "../exec/command_errors.ts";

/** Errno values mount.lustre exits with, and what each means for the caller. */
export const MOUNT_LUSTRE_EXIT = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
} as const;

/** A failed mount.lustre run with the tool's own message. */
export class LustreMountError extends Error {
  override name = "LustreMountError";
  constructor(readonly source: string, readonly exitCode: number, readonly output: string) {
    super(`mount.lustre "${source}" exited with ${exitCode}: ${summarize(output)}`);
  }
}
