/**
 * StorageClass parameters of dynamic provisioning, each checked against an
 * allow-list, and the directory template that names a volume's directory.
 */
import {
  type LustreSource,
  parseLustreSource,
  parseSubdir,
  requireSegment,
} from "../lustre/source.ts";
import { parseMountOptionList } from "../lustre/mount_options.ts";
import { type EncryptionParams, parseEncryption } from "./encryption_params.ts";
import { formatClientParam, parseClientParams } from "../lustre/client_params.ts";
import { parsePcc, PCC_KEYS } from "../lustre/pcc_params.ts";
import { checkCompression, checkCompressionChunk } from "../lustre/compression.ts";

/** What happens to a volume's directory when its PV is deleted. */
export type DeletePolicy = "delete" | "retain" | "archive";

/** Default striping applied to a new volume directory. */
export interface Striping {
  readonly count?: number;
  readonly size?: string;
  readonly pool?: string;
  /** Client-side data compression `TYPE[:LEVEL]` (Lustre 2.17), e.g. `lz4:3`. */
  readonly compression?: string;
  /** Compression chunk size, e.g. `1M`. */
  readonly compressionChunk?: string;
}

/** Parsed StorageClass parameters. */
export interface ProvisionParams {
  readonly source: LustreSource;
  /** Base directory inside the file system, "/" or "/k8s". */
  readonly base: string;
  readonly subdirTemplate: string;
  readonly projectIdMin: number;
  readonly projectIdMax: number;
  readonly onDelete: DeletePolicy;
  /** Archive directory relative to the base. */
  readonly archiveDir: string;
  readonly striping: Striping;
  readonly mountOptions: readonly string[];
  /** Hard inode limit per volume, 0 for none. */
  readonly inodeQuota: number;
  /** Mode of a new volume directory, with setuid/setgid/sticky bits (up to 0o7777). */
  readonly directoryMode: number;
  /** Group of a new volume directory; undefined leaves the controller's own. */
  readonly gid?: number;
  /** Client encryption (fscrypt) of the volume's directory, and where its key lives. */
  readonly encryption?: EncryptionParams;
  /** Client tunables for the nodes (`lustreParams`), canonical and sorted; passed in the volume context. */
  readonly lustreParams: readonly string[];
  /** PCC (hotNodes) parameters as given, checked; passed to the nodes in the volume context. */
  readonly pcc: Readonly<Record<string, string>>;
}

/** PVC and PV names the external-provisioner passes with --extra-create-metadata. */
export interface ClaimMetadata {
  readonly pvcName?: string;
  readonly pvcNamespace?: string;
  readonly pvName?: string;
}

/** Parameter names, with their defaults where they have one. */
export const PARAMETER_DEFAULTS: Readonly<Record<string, string>> = {
  source: "",
  basePath: "",
  subdirTemplate: "${pv.metadata.name}",
  projectIdRange: "1000000-1999999",
  onDelete: "delete",
  archivePath: ".archive",
  stripeCount: "",
  stripeSize: "",
  pool: "",
  mountOptions: "",
  inodeQuota: "0",
  directoryMode: "2770",
  gid: "",
  encryption: "false",
  kms: "",
  lustreParams: "",
  ...PCC_KEYS,
  compression: "",
  compressionChunk: "",
};

const PVC_NAME = "csi.storage.k8s.io/pvc/name";
const PVC_NAMESPACE = "csi.storage.k8s.io/pvc/namespace";
const PV_NAME = "csi.storage.k8s.io/pv/name";
const KUBERNETES_PREFIX = "csi.storage.k8s.io/";
const MAX_PROJECT_ID = 4294967294;
/** Largest uid/gid: 2^32 - 2 (2^32 - 1 is "no change" to chown). */
const MAX_ID = 4294967294;

/**
 * Checks every parameter; unknown ones are refused by name.
 * @throws TypeError naming the parameter and its value
 */
export function parseParameters(
  parameters: Readonly<Record<string, string>>,
): { params: ProvisionParams; metadata: ClaimMetadata } {
  for (const key of Object.keys(parameters)) {
    if (!(key in PARAMETER_DEFAULTS) && !key.startsWith(KUBERNETES_PREFIX)) {
      throw new TypeError(
        `parameter "${key}" is not known: use ${Object.keys(PARAMETER_DEFAULTS).join(", ")}`,
      );
    }
  }
  const value = (key: string) => parameters[key] ?? PARAMETER_DEFAULTS[key];
  const sourceText = value("source");
  if (sourceText === "") {
    throw new TypeError('parameter "source" is required (e.g. 10.0.0.1@tcp:/fs1)');
  }
  const source = check("source", sourceText, () => parseLustreSource(sourceText));
  const baseText = value("basePath").replace(/^\/+/, "");
  const base = baseText === ""
    ? "/"
    : check("basePath", value("basePath"), () => parseSubdir(baseText));
  const [min, max] = check(
    "projectIdRange",
    value("projectIdRange"),
    () => parseRange(value("projectIdRange")),
  );
  const onDelete = value("onDelete");
  if (onDelete !== "delete" && onDelete !== "retain" && onDelete !== "archive") {
    throw new TypeError(`parameter "onDelete" "${onDelete}" is not one of delete, retain, archive`);
  }
  const archiveDir = check(
    "archivePath",
    value("archivePath"),
    () => parseSubdir(value("archivePath")).slice(1),
  );
  const template = value("subdirTemplate");
  const probe = { pvcName: "probe", pvcNamespace: "probe", pvName: "probe" };
  check("subdirTemplate", template, () => expandTemplate(template, probe, "probe"));
  return {
    params: {
      source: { ...source, subdir: "/" },
      base: joinBase(source.subdir, base),
      subdirTemplate: template,
      projectIdMin: min,
      projectIdMax: max,
      onDelete,
      archiveDir,
      striping: parseStriping(value),
      mountOptions: check(
        "mountOptions",
        value("mountOptions"),
        () => parseMountOptionList(value("mountOptions")),
      ),
      inodeQuota: integer("inodeQuota", value("inodeQuota"), 0, Number.MAX_SAFE_INTEGER),
      directoryMode: check(
        "directoryMode",
        value("directoryMode"),
        () => parseMode(value("directoryMode")),
      ),
      ...(value("gid") !== "" ? { gid: integer("gid", value("gid"), 0, MAX_ID) } : {}),
      ...parseEncryption(value("encryption"), value("kms")),
      pcc: pccParameters(parameters),
      lustreParams: check(
        "lustreParams",
        value("lustreParams"),
        () => parseClientParams(value("lustreParams")).map(formatClientParam),
      ),
    },
    metadata: {
      pvcName: parameters[PVC_NAME],
      pvcNamespace: parameters[PVC_NAMESPACE],
      pvName: parameters[PV_NAME],
    },
  };
}

/** Parameters that change what a volume is; a retry must repeat them. */
export function volumeShape(params: ProvisionParams): Record<string, unknown> {
  return {
    source: params.source.fsSource,
    base: params.base,
    onDelete: params.onDelete,
    archiveDir: params.archiveDir,
    striping: params.striping,
    mountOptions: params.mountOptions,
    inodeQuota: params.inodeQuota,
    directoryMode: params.directoryMode.toString(8).padStart(4, "0"),
    gid: params.gid ?? null,
    ...(params.encryption ? { encryption: params.encryption.kms } : {}),
  };
}

/**
 * Expands `${pvc.metadata.namespace}`, `${pvc.metadata.name}` and
 * `${pv.metadata.name}` into a relative directory; every segment must be
 * path-safe. `${pv.metadata.name}` falls back to the CreateVolume name.
 * @throws TypeError naming the placeholder or the bad segment
 */
export function expandTemplate(template: string, metadata: ClaimMetadata, name: string): string {
  const values: Record<string, string | undefined> = {
    "pvc.metadata.namespace": metadata.pvcNamespace,
    "pvc.metadata.name": metadata.pvcName,
    "pv.metadata.name": metadata.pvName ?? name,
  };
  const expanded = template.replace(/\$\{([^}]*)\}/g, (_, key: string) => {
    if (!(key in values)) {
      throw new TypeError(
        `placeholder "\${${key}}" is not one of ${
          Object.keys(values).map((k) => `\${${k}}`).join(", ")
        }`,
      );
    }
    const value = values[key];
    if (value === undefined || value === "") {
      throw new TypeError(
        `placeholder "\${${key}}" has no value: run external-provisioner with --extra-create-metadata`,
      );
    }
    if (value.includes("/")) {
      throw new TypeError(`placeholder "\${${key}}" value "${value}" holds a "/"`);
    }
    return value;
  });
  if (expanded.startsWith("/")) throw new TypeError("it expands to an absolute path");
  return expanded.split("/").map(requireSegment).join("/");
}

function parseStriping(value: (key: string) => string): Striping {
  const count = value("stripeCount");
  const size = value("stripeSize");
  const pool = value("pool");
  if (size !== "" && !/^[0-9]+[KkMmGg]?$/.test(size)) {
    throw new TypeError(`parameter "stripeSize" "${size}" is not a size like 1M or 4194304`);
  }
  if (size !== "" && sizeBytes(size) % 65536 !== 0) {
    throw new TypeError(`parameter "stripeSize" "${size}" is not a multiple of 64 KiB`);
  }
  if (pool !== "" && !/^[A-Za-z0-9_-]{1,15}$/.test(pool)) {
    throw new TypeError(`parameter "pool" "${pool}" is not a Lustre pool name`);
  }
  const compression = value("compression");
  const chunk = value("compressionChunk");
  if (compression !== "") check("compression", compression, () => checkCompression(compression));
  if (chunk !== "") {
    if (compression === "") {
      throw new TypeError('parameter "compressionChunk" needs parameter "compression"');
    }
    check("compressionChunk", chunk, () => checkCompressionChunk(chunk));
  }
  return {
    ...(count !== "" ? { count: integer("stripeCount", count, -1, 2000) } : {}),
    ...(size !== "" ? { size } : {}),
    ...(pool !== "" ? { pool } : {}),
    ...(compression !== "" ? { compression } : {}),
    ...(chunk !== "" ? { compressionChunk: chunk } : {}),
  };
}

function sizeBytes(size: string): number {
  const units: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  const unit = size.slice(-1).toLowerCase();
  return unit in units ? Number(size.slice(0, -1)) * units[unit] : Number(size);
}

function parseRange(text: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match) throw new Error("it is not MIN-MAX");
  const [min, max] = [Number(match[1]), Number(match[2])];
  if (min < 1 || max > MAX_PROJECT_ID || min > max) {
    throw new Error(`it must lie within 1-${MAX_PROJECT_ID} with MIN <= MAX`);
  }
  return [min, max];
}

/** An octal mode of 3 or 4 digits (a leading 0 allowed), at most 07777. */
export function parseMode(text: string): number {
  if (!/^0*[0-7]+$/.test(text)) {
    throw new Error("it is not an octal mode like 2770 or 0770 (digits 0-7 only)");
  }
  const mode = parseInt(text, 8);
  if (mode > 0o7777) {
    throw new Error(
      "it is above 7777: a mode has at most four octal digits (setuid/setgid/sticky, user, group, others)",
    );
  }
  if (text.replace(/^0+/, "").length < 3 && mode !== 0) {
    // "77" is most likely a typo for 0077 or 0770; refuse rather than guess.
    throw new Error(
      "it has fewer than three octal digits: write all of user, group and others, e.g. 0770",
    );
  }
  return mode;
}

/** The PCC parameters given (checked together; the node reads them from the volume context). */
function pccParameters(parameters: Readonly<Record<string, string>>): Record<string, string> {
  parsePcc((key) => parameters[key]);
  return Object.fromEntries(
    Object.keys(PCC_KEYS).filter((k) => k in parameters).map((k) => [
      k,
      parameters[k],
    ]),
  );
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TypeError(
      `parameter "${name}" "${text}" is not a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

function check<T>(name: string, value: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new TypeError(`parameter "${name}" "${value}" is refused: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function joinBase(sourceSubdir: string, base: string): string {
  if (sourceSubdir === "/") return base;
  return base === "/" ? sourceSubdir : `${sourceSubdir}${base}`;
}
