/**
 * What differs between a volume's record and a CreateVolume request for the
 * same name, in StorageClass parameter names, for an ALREADY_EXISTS message.
 */

/** A recorded or requested volume: its size and its shape (parameters.ts volumeShape). */
export interface VolumeSpec {
  readonly capacityBytes: number;
  readonly shape: Readonly<Record<string, unknown>>;
}

/** Shape keys as StorageClass parameters; nested striping is split below. */
const PARAMETER_NAMES: Readonly<Record<string, string>> = {
  source: "source",
  base: "basePath",
  onDelete: "onDelete",
  archiveDir: "archivePath",
  mountOptions: "mountOptions",
  inodeQuota: "inodeQuota",
  directoryMode: "directoryMode",
  gid: "gid",
};

const STRIPING_NAMES: Readonly<Record<string, string>> = {
  count: "stripeCount",
  size: "stripeSize",
  pool: "pool",
  compression: "compression",
  compressionChunk: "compressionChunk",
};

/**
 * Each difference as `parameter "pool": "fast" recorded, "flash" requested`
 * and `capacity 1 recorded, 2 requested`. A shape key the record lacks (a
 * record from an older version) is not compared.
 */
export function describeDifferences(recorded: VolumeSpec, requested: VolumeSpec): string[] {
  const out: string[] = [];
  for (const [key, name] of Object.entries(PARAMETER_NAMES)) {
    if (!(key in recorded.shape)) continue;
    const [a, b] = [show(recorded.shape[key]), show(requested.shape[key])];
    if (a !== b) out.push(`parameter "${name}": ${a} recorded, ${b} requested`);
  }
  if ("striping" in recorded.shape) {
    const a = (recorded.shape.striping ?? {}) as Record<string, unknown>;
    const b = (requested.shape.striping ?? {}) as Record<string, unknown>;
    for (const [key, name] of Object.entries(STRIPING_NAMES)) {
      const [x, y] = [show(a[key]), show(b[key])];
      if (x !== y) out.push(`parameter "${name}": ${x} recorded, ${y} requested`);
    }
  }
  if (recorded.capacityBytes !== requested.capacityBytes) {
    out.push(`capacity ${recorded.capacityBytes} recorded, ${requested.capacityBytes} requested`);
  }
  return out;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "(not set)";
  if (Array.isArray(value)) return value.length === 0 ? "(not set)" : `"${value.join(",")}"`;
  return typeof value === "string" ? `"${value}"` : String(value);
}
