/**
 * The controller's records, kept on the Lustre file system itself in
 * `/.klustre-csi/volumes/`: one small JSON file per provisioned directory.
 * They make CreateVolume idempotent across restarts, keep project IDs
 * unique on the file system, and prove that a directory is the driver's
 * before DeleteVolume touches it.
 */
import { createHash } from "node:crypto";
import { withTimeout } from "../mount/path_health.ts";
import type { DeletePolicy } from "./parameters.ts";
import type { KmsKind } from "../kms/volume_keys.ts";

/** Where the records live, relative to the file system root. */
export const RECORDS_DIR = ".klustre-csi/volumes";

/** One provisioned directory. */
export interface VolumeRecord {
  readonly version: 1;
  readonly name: string;
  readonly volumeId: string;
  /** Directory inside the file system, e.g. "/k8s/pvc-1". */
  readonly dir: string;
  readonly projectId: number;
  readonly capacityBytes: number;
  readonly shape: Record<string, unknown>;
  readonly onDelete: DeletePolicy;
  readonly state: "creating" | "ready" | "retained" | "archived";
  readonly archivedTo?: string;
  /** Encrypted volumes: the KMS and the fscrypt key identifier of the directory's policy. */
  readonly encryption?: { readonly kms: KmsKind; readonly keyIdentifier: string };
}

/** Reads and writes records under one mounted file system. */
export class RecordStore {
  constructor(private readonly mountPath: string, private readonly timeoutMs: number) {}

  get directory(): string {
    return `${this.mountPath}/${RECORDS_DIR}`;
  }

  /** The record of `dir`, if any. */
  async read(dir: string): Promise<VolumeRecord | undefined> {
    const path = this.#path(dir);
    try {
      return JSON.parse(await this.#bounded(path, () => Deno.readTextFile(path))) as VolumeRecord;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** Writes a record atomically (temp file, then rename). */
  async write(record: VolumeRecord): Promise<void> {
    const path = this.#path(record.dir);
    await this.#bounded(
      this.directory,
      () => Deno.mkdir(this.directory, { recursive: true, mode: 0o700 }),
    );
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await this.#bounded(temp, () => Deno.writeTextFile(temp, JSON.stringify(record, null, 2)));
    await this.#bounded(path, () => Deno.rename(temp, path));
  }

  /** Removes the record of `dir`; a missing one is fine. */
  async remove(dir: string): Promise<void> {
    const path = this.#path(dir);
    await this.#bounded(path, () => Deno.remove(path)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /** Every record on the file system. */
  async all(): Promise<VolumeRecord[]> {
    const names: string[] = [];
    try {
      await this.#bounded(this.directory, async () => {
        for await (const entry of Deno.readDir(this.directory)) {
          if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
        }
      });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    const records: VolumeRecord[] = [];
    for (const name of names) {
      const path = `${this.directory}/${name}`;
      try {
        records.push(JSON.parse(await this.#bounded(path, () => Deno.readTextFile(path))));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    return records;
  }

  #path(dir: string): string {
    const hash = createHash("sha256").update(dir).digest("hex").slice(0, 40);
    return `${this.directory}/${hash}.json`;
  }

  #bounded<T>(path: string, work: () => Promise<T>): Promise<T> {
    return withTimeout(path, this.timeoutMs, work);
  }
}

/**
 * Picks a free project ID in [min, max]: first the one the name hashes to,
 * then the next free one after it.
 * @throws RangeError when the range is full
 */
export function pickProjectId(name: string, min: number, max: number, used: Set<number>): number {
  const span = max - min + 1;
  const start = parseInt(createHash("sha256").update(name).digest("hex").slice(0, 12), 16) % span;
  for (let i = 0; i < span; i++) {
    const candidate = min + (start + i) % span;
    if (!used.has(candidate)) return candidate;
  }
  throw new RangeError(`every project ID from ${min} to ${max} is in use`);
}
