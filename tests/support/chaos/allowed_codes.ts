/**
 * The status codes each kubelet call may answer during the campaign, given
 * the faults in force when it was made. Anything else is a defect:
 *
 * - OK, ABORTED (another call holds the volume; kubelet retries) and
 *   UNAVAILABLE (Lustre not answering, MGS unreachable, a stale mount whose
 *   repair must wait: kubelet retries) are always acceptable.
 * - FAILED_PRECONDITION only while `modules-missing` is on: the Lustre client
 *   is not usable on this node (docs/troubleshooting.md), which an operator
 *   must fix; any other FAILED_PRECONDITION for a valid volume (e.g. "it is
 *   not staged" after a failed repair) strands the volume and is a defect.
 * - Never DEADLINE_EXCEEDED: the campaign's `slow` delays (at most 1 s) stay
 *   far below the driver's command (5 s here) and mount timeouts, and a
 *   frozen file system is refused by the driver's gate (UNAVAILABLE) once
 *   its first call there overran the command timeout.
 * - Never INTERNAL, UNKNOWN, NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS: the
 *   requests are valid and the volumes exist.
 */
import { Code } from "../../../src/csi/csi_error.ts";
import type { NodeModel, Op } from "./model.ts";

const ALWAYS: readonly number[] = [Code.OK, Code.ABORTED, Code.UNAVAILABLE];

/** The codes `op` may answer with the model's faults (before the call). */
export function allowedCodes(op: Op, model: NodeModel): number[] {
  const mounts = /^(stage|publish) /.test(op);
  return mounts && model.modulesMissing ? [...ALWAYS, Code.FAILED_PRECONDITION] : [...ALWAYS];
}
