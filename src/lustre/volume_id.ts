/**
 * Volume IDs of dynamically provisioned volumes. Versioned, readable, no
 * secrets: `lustre.v1:<fs source><base>//<relative dir>`, for example
 * `lustre.v1:10.0.0.1@tcp:/fs1/k8s//pvc-1234`. Every later call recovers the
 * file system, the StorageClass base directory and the volume directory.
 */
import { type LustreSource, parseLustreSource, parseSubdir } from "./source.ts";

const PREFIX = "lustre.v1:";

/** What a volume ID names. */
export interface VolumeLocation {
  readonly source: LustreSource;
  /** Base directory inside the file system ("/" or "/k8s"). */
  readonly base: string;
  /** Volume directory relative to the base ("pvc-1" or "ns/claim"). */
  readonly relative: string;
}

/** The volume's directory inside the file system. */
export function volumeDir(location: VolumeLocation): string {
  return location.base === "/" ? `/${location.relative}` : `${location.base}/${location.relative}`;
}

/** Encodes a location as a volume ID. */
export function encodeVolumeId(location: VolumeLocation): string {
  const base = location.base === "/" ? "" : location.base;
  return `${PREFIX}${location.source.fsSource}${base}//${location.relative}`;
}

/**
 * Decodes a volume ID.
 * @throws SyntaxError when it is not a klustre-csi volume ID or is malformed
 */
export function decodeVolumeId(volumeId: string): VolumeLocation {
  if (!volumeId.startsWith(PREFIX)) {
    throw new SyntaxError(`"${volumeId}" is not a ${PREFIX} volume ID`);
  }
  const rest = volumeId.slice(PREFIX.length);
  const split = rest.indexOf("//", rest.indexOf(":/") + 2);
  if (split < 0) throw new SyntaxError(`"${volumeId}" has no "//" before the volume directory`);
  const source = parseLustreSource(rest.slice(0, split));
  const relative = parseSubdir(rest.slice(split + 2)).slice(1);
  if (relative === "") throw new SyntaxError(`"${volumeId}" names no volume directory`);
  return { source: { ...source, subdir: "/" }, base: source.subdir, relative };
}
