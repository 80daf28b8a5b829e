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
  readonly state: "creating" | "ready" | "retained" | "archived" | "deleting";
  readonly archivedTo?: string;
  /** Encrypted volumes: the KMS and the fscrypt key identifier of the directory's policy. */
  readonly encryption?: { readonly kms: KmsKind; readonly keyIdentifier: string };
  /** While "deleting": the trash entry the directory moves into (controller/trash.ts). */
  readonly trash?: string;
}

/** Where the name index lives: volume name -> directory, one file per name. */
export const NAMES_DIR = ".klustre-csi/names";

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

  /** The directory the name index holds for volume `name`, if any. */
  async dirOfName(name: string): Promise<string | undefined> {
    const path = this.#namePath(name);
    try {
      const entry = JSON.parse(await this.#bounded(path, () => Deno.readTextFile(path)));
      return entry.name === name && typeof entry.dir === "string" ? entry.dir : undefined;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Points volume `name` at `dir` in the name index. */
  async nameDir(name: string, dir: string): Promise<void> {
    const path = this.#namePath(name);
    const folder = path.slice(0, path.lastIndexOf("/"));
    await this.#bounded(folder, () => Deno.mkdir(folder, { recursive: true, mode: 0o700 }));
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await this.#bounded(temp, () => Deno.writeTextFile(temp, JSON.stringify({ name, dir })));
    await this.#bounded(path, () => Deno.rename(temp, path));
  }

  /** Removes volume `name` from the name index when it still points at `dir`. */
  async forgetName(name: string, dir: string): Promise<void> {
    if (await this.dirOfName(name) !== dir) return;
    const path = this.#namePath(name);
    await this.#bounded(path, () => Deno.remove(path)).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  #namePath(name: string): string {
    const hash = createHash("sha256").update(name).digest("hex").slice(0, 40);
    return `${this.mountPath}/${NAMES_DIR}/${hash}.json`;
  }

  #path(dir: string): string {
    const hash = createHash("sha256").update(dir).digest("hex").slice(0, 40);
    return `${this.directory}/${hash}.json`;
  }

  #bounded<T>(path: string, work: () => Promise<T>): Promise<T> {
    return withTimeout(path, this.timeoutMs, work);
  }
}
