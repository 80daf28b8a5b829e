/**
 * Turns a node request's volume context and mount flags into what to mount:
 * the file system, the directory inside it, the Lustre client options (which
 * choose the shared mount) and the per-bind flags.
 */
import type { MountFlag } from "../mount/mounter.ts";
import { joinDirs, type LustreSource, parseLustreSource, parseSubdir } from "../lustre/source.ts";
import { decodeVolumeId, volumeDir } from "../lustre/volume_id.ts";
import {
  mergeMountOptions,
  parseMountOptionList,
  splitMountOptions,
} from "../lustre/mount_options.ts";
import {
  CONTEXT_ENCRYPTION,
  CONTEXT_KEY_IDENTIFIER,
  parseVolumeEncryption,
  type VolumeEncryption,
} from "../kms/encryption_context.ts";
import { type ClientParam, parseClientParams } from "../lustre/client_params.ts";
import { parsePcc, PCC_KEYS, type PccSpec } from "../lustre/pcc_params.ts";
import { checkCompression } from "../lustre/compression.ts";

/** Volume-context keys the node reads. */
export const CONTEXT_SOURCE = "source";
export const CONTEXT_SUBDIR = "subdir";
export const CONTEXT_MOUNT_OPTIONS = "mountOptions";
export const CONTEXT_LUSTRE_PARAMS = "lustreParams";
const KNOWN_KEYS = new Set([
  CONTEXT_SOURCE,
  CONTEXT_SUBDIR,
  CONTEXT_MOUNT_OPTIONS,
  CONTEXT_ENCRYPTION,
  CONTEXT_KEY_IDENTIFIER,
  CONTEXT_LUSTRE_PARAMS,
  ...Object.keys(PCC_KEYS),
  "compression",
]);
/** Prefixes of keys Kubernetes and its sidecars add (pod info, provisioner identity). */
const KUBERNETES_PREFIXES = ["csi.storage.k8s.io/", "storage.kubernetes.io/"];

/** Everything the node needs to stage or publish a volume. */
export interface VolumeSpec {
  readonly source: LustreSource;
  /** The volume's directory inside the file system: source subdir + `subdir`. */
  readonly dir: string;
  /** Lustre client options, sorted: with the file system they pick the shared mount. */
  readonly clientOptions: readonly string[];
  /** Per-bind flags (nosuid, noatime, ...), without "ro". */
  readonly bindFlags: readonly MountFlag[];
  /** The options ask for a read-only volume. */
  readonly readOnly: boolean;
  /** "suid" and "dev" when the options ask for them (pods get nosuid,nodev otherwise). */
  readonly suidDev: readonly ("suid" | "dev")[];
  /** An encrypted volume: where its key lives and the identifier its directory's policy names. */
  readonly encryption?: VolumeEncryption;
  /** Client tunables of the volume's client instance, sorted (part of the shared mount's identity). */
  readonly lustreParams: readonly ClientParam[];
  /** Read-only Persistent Client Cache of the volume (hotNodes), if asked for. */
  readonly pcc?: PccSpec;
  /** The volume's files are compressed (`TYPE[:LEVEL]`): only 2.17 clients can use them. */
  readonly compression?: string;
}

/** The request names no source and its volume ID is not one of this driver's. */
export class UnknownVolumeError extends Error {
  override name = "UnknownVolumeError";
}

/** Inputs of resolveVolume, straight from the request and the settings. */
export interface VolumeInput {
  readonly volumeId: string;
  readonly volumeContext: Readonly<Record<string, string>>;
  readonly mountFlags: readonly string[];
  readonly defaultMountOptions: readonly string[];
}

const BIND_FLAGS = new Set<string>([
  "nosuid",
  "nodev",
  "noexec",
  "noatime",
  "nodiratime",
  "relatime",
  "strictatime",
]);

/**
 * Resolves the volume. Precedence of options, lowest first: the settings'
 * defaultMountOptions, then CSI mount_flags (PV/StorageClass mountOptions),
 * then the `mountOptions` volume attribute; a later option replaces an
 * earlier one of its family (noflock replaces flock).
 * @throws TypeError naming the field and the value
 */
export function resolveVolume(input: VolumeInput): VolumeSpec {
  for (const key of Object.keys(input.volumeContext)) {
    if (!KNOWN_KEYS.has(key) && !KUBERNETES_PREFIXES.some((p) => key.startsWith(p))) {
      throw new TypeError(
        `volume attribute "${key}" is not known: use ${[...KNOWN_KEYS].join(", ")}`,
      );
    }
  }
  const sourceText = input.volumeContext[CONTEXT_SOURCE] ?? fromVolumeId(input);
  const source = field(CONTEXT_SOURCE, sourceText, () => parseLustreSource(sourceText));
  const subdirText = input.volumeContext[CONTEXT_SUBDIR] ?? "";
  const subdir = subdirText === ""
    ? "/"
    : field(CONTEXT_SUBDIR, subdirText, () => parseSubdir(subdirText));
  const flags = input.mountFlags.flatMap((flag) =>
    field("PV mountOptions", flag, () => parseMountOptionList(flag))
  );
  const attribute = input.volumeContext[CONTEXT_MOUNT_OPTIONS] ?? "";
  const fromAttribute = field(
    CONTEXT_MOUNT_OPTIONS,
    attribute,
    () => parseMountOptionList(attribute),
  );
  const merged = mergeMountOptions([input.defaultMountOptions, flags, fromAttribute]);
  const { vfs, client } = splitMountOptions(merged);
  const paramsText = input.volumeContext[CONTEXT_LUSTRE_PARAMS] ?? "";
  const lustreParams = field(
    CONTEXT_LUSTRE_PARAMS,
    paramsText,
    () => parseClientParams(paramsText),
  );
  return {
    source,
    dir: joinDirs(source.subdir, subdir),
    clientOptions: [...new Set(client)].sort(),
    bindFlags: vfs.filter((o) => BIND_FLAGS.has(o)) as MountFlag[],
    readOnly: vfs.includes("ro"),
    suidDev: vfs.filter((o): o is "suid" | "dev" => o === "suid" || o === "dev"),
    ...parseVolumeEncryption(input.volumeContext),
    lustreParams,
    ...pccOf(input.volumeContext),
    ...compressionOf(input.volumeContext),
  };
}

/**
 * Without a `source` attribute, a dynamic volume's ID still names its
 * directory; anything else cannot be found.
 */
function fromVolumeId(input: VolumeInput): string {
  try {
    const location = decodeVolumeId(input.volumeId);
    return `${location.source.fsSource}${volumeDir(location)}`;
  } catch {
    const detail = `volume attribute "source" is required (e.g. 10.0.0.1@tcp0:/lustre-fs)`;
    if (Object.keys(input.volumeContext).length === 0) {
      throw new UnknownVolumeError(
        `it has no volume attributes and is not a volume of this driver: ${detail}`,
      );
    }
    throw new TypeError(detail);
  }
}

function compressionOf(context: Readonly<Record<string, string>>): { compression?: string } {
  const compression = context.compression;
  if (compression === undefined) return {};
  field("compression", compression, () => checkCompression(compression));
  return { compression };
}

function pccOf(context: Readonly<Record<string, string>>): { pcc?: PccSpec } {
  const pcc = parsePcc((key) => context[key]);
  return pcc ? { pcc } : {};
}

function field<T>(name: string, value: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new TypeError(`${name} "${value}" is refused: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
