/**
 * Guard-block helpers for CSI requests: each checks one field and throws
 * INVALID_ARGUMENT naming the field and the value.
 */
import { Code, CsiError } from "./csi_error.ts";
import { type VolumeCapability, VolumeCapability_AccessMode_Mode as Mode } from "./gen/csi_pb.ts";

/** Names the call in messages: `Cannot stage volume "v1"`. */
export interface CallContext {
  readonly action: string;
  readonly volumeId: string;
}

/** Builds an INVALID_ARGUMENT error in the house format. */
export function invalidArgument(context: CallContext, detail: string): CsiError {
  const who = context.volumeId ? ` "${context.volumeId}"` : "";
  return new CsiError(Code.INVALID_ARGUMENT, `Cannot ${context.action} volume${who}: ${detail}`);
}

/**
 * Requires a non-empty volume ID without control characters.
 * @throws CsiError INVALID_ARGUMENT
 */
export function requireVolumeId(action: string, volumeId: string): string {
  const context = { action, volumeId: "" };
  if (volumeId === "") throw invalidArgument(context, '"volumeId" is required');
  // deno-lint-ignore no-control-regex -- control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(volumeId) || volumeId.length > 1024) {
    throw invalidArgument(
      context,
      `"volumeId" ${JSON.stringify(volumeId.slice(0, 64))} is not valid`,
    );
  }
  return volumeId;
}

const MAX_PATH_LENGTH = 4096;

/**
 * Requires an absolute, normalised path (no "..", ".", "//" or NUL).
 * Returns it without a trailing slash.
 * @throws CsiError INVALID_ARGUMENT
 */
export function requirePath(context: CallContext, field: string, path: string): string {
  if (path === "") throw invalidArgument(context, `"${field}" is required`);
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const segments = trimmed.split("/").slice(1);
  const bad = !trimmed.startsWith("/") || trimmed.length > MAX_PATH_LENGTH ||
    trimmed.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..");
  if (bad) {
    throw invalidArgument(context, `"${field}" "${path}" is not an absolute, normalised path`);
  }
  return trimmed;
}

/** What a mount capability asks for. */
export interface MountRequest {
  readonly accessMode: Mode;
  /** The access mode allows no writer. */
  readonly readOnlyMode: boolean;
  /** The access mode allows one node only (and, for SINGLE_*, one target). */
  readonly singleTarget: boolean;
  /** CSI mount_flags (PV / StorageClass mountOptions), unchecked. */
  readonly mountFlags: readonly string[];
}

const READ_ONLY_MODES = new Set([Mode.SINGLE_NODE_READER_ONLY, Mode.MULTI_NODE_READER_ONLY]);
const SINGLE_TARGET_MODES = new Set([
  Mode.SINGLE_NODE_WRITER,
  Mode.SINGLE_NODE_READER_ONLY,
  Mode.SINGLE_NODE_SINGLE_WRITER,
]);

/**
 * Requires a mount capability: mount access type, fs type "" or "lustre",
 * a known access mode, no volume_mount_group.
 * @throws CsiError INVALID_ARGUMENT
 */
export function requireMountCapability(
  context: CallContext,
  capability: VolumeCapability | undefined,
): MountRequest {
  if (!capability) throw invalidArgument(context, '"volumeCapability" is required');
  const accessType = capability.accessType;
  if (accessType.case === "block") {
    throw invalidArgument(
      context,
      "block access is not supported: Lustre volumes are file systems",
    );
  }
  if (accessType.case !== "mount") {
    throw invalidArgument(context, '"volumeCapability.accessType" is required (mount)');
  }
  const fsType = accessType.value.fsType;
  if (fsType !== "" && fsType !== "lustre") {
    throw invalidArgument(
      context,
      `"fsType" "${fsType}" is not supported: use "lustre" or leave it empty`,
    );
  }
  if (accessType.value.volumeMountGroup !== "") {
    throw invalidArgument(context, '"volumeMountGroup" is not supported by this driver');
  }
  const mode = capability.accessMode?.mode ?? Mode.UNKNOWN;
  if (mode === Mode.UNKNOWN || !(mode in Mode)) {
    throw invalidArgument(context, '"volumeCapability.accessMode" is required');
  }
  return {
    accessMode: mode,
    readOnlyMode: READ_ONLY_MODES.has(mode),
    singleTarget: SINGLE_TARGET_MODES.has(mode),
    mountFlags: accessType.value.mountFlags,
  };
}
