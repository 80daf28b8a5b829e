/**
 * The status codes each kubelet call may answer during the campaign, given
 * the faults in force when it was made. Anything else is a defect:
 *
 * - OK, ABORTED (another call holds the volume; kubelet retries) and
 *   UNAVAILABLE (Lustre not answering, MGS unreachable, a stale mount whose
 *   repair must wait: kubelet retries) are always acceptable.
 * - FAILED_PRECONDITION only while `modules-missing` is on, for stage and
 *   publish, and only saying so ("the Lustre client is not ready", or
 *   mount.lustre's exit 19, ENODEV): the Lustre client is not usable on
 *   this node (docs/troubleshooting.md), which an operator must fix. Any
 *   other FAILED_PRECONDITION for a valid volume (e.g. "it is not staged"
 *   after a failed repair) strands the volume and is a defect.
 * - DEADLINE_EXCEEDED only for stage and publish of a volume whose file
 *   system is frozen, and only when mount.lustre overran the driver's mount
 *   timeout: a mount against a hung server (a new instance of a frozen file
 *   system is frozen too, e.g. to replace an evicted mount) blocks like a
 *   real one, and the mount timeout (8 s here, default 100 s, below
 *   kubelet's 2 min) is what bounds it. Calls on an existing mount of a
 *   frozen file system are refused by the driver's gate (UNAVAILABLE) once
 *   one call there overran the command timeout (5 s here). The `slow`
 *   delays (at most 1 s) stay far below both timeouts: never
 *   DEADLINE_EXCEEDED for them.
 * - Never INTERNAL, UNKNOWN, NOT_FOUND, INVALID_ARGUMENT, ALREADY_EXISTS: the
 *   requests are valid and the volumes exist.
 */
import { Code } from "../../../src/csi/csi_error.ts";
import type { NodeModel, Op } from "./model.ts";
import { VOLUMES } from "./cluster.ts";

const ALWAYS: readonly number[] = [Code.OK, Code.ABORTED, Code.UNAVAILABLE];
/** What a FAILED_PRECONDITION for missing modules says. */
const CLIENT_NOT_READY = /the Lustre client is not ready|exited with 19/;
/** What a DEADLINE_EXCEEDED for a hung mount.lustre says. */
const MOUNT_OVERRAN = /"mount\.lustre" did not finish within/;

/** The codes `op` may answer with the model's faults (before the call). */
export function allowedCodes(op: Op, model: NodeModel): number[] {
  if (!/^(stage|publish) /.test(op)) return [...ALWAYS];
  const frozen = model.frozen.has(VOLUMES[Number(op.split(" ")[1])].fs);
  return [
    ...ALWAYS,
    ...(model.modulesMissing ? [Code.FAILED_PRECONDITION] : []),
    ...(frozen ? [Code.DEADLINE_EXCEEDED] : []),
  ];
}

/** Whether an answer with an allowed code also says what that code may mean here. */
export function allowedMessage(code: number, message: string): boolean {
  if (code === Code.FAILED_PRECONDITION) return CLIENT_NOT_READY.test(message);
  if (code === Code.DEADLINE_EXCEEDED) return MOUNT_OVERRAN.test(message);
  return true;
}
