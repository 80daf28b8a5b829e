/**
 * The project-ID allocator of one file system: `/.klustre-csi/allocator.json`
 * holds the IDs in use as ranges, so a create reads and writes one small
 * file instead of every volume record. Callers hold the file system's lock
 * (controller/volume_lock.ts). A file system provisioned before the
 * allocator existed gets one built from a scan of its records, once.
 */
import { withTimeout } from "../mount/path_health.ts";
import { addId, type IdRanges, lowestFree, removeId } from "./id_set.ts";
import type { RecordStore } from "./records.ts";
import { trashedProjectIds } from "./trash.ts";

/** Where the allocator lives, relative to the file system root. */
export const ALLOCATOR_FILE = ".klustre-csi/allocator.json";

interface AllocatorContent {
  readonly version: 1;
  /** Every project ID a record or a trash entry holds. */
  readonly used: IdRanges;
}

/** Reads and updates the allocator of the file system mounted at `mountPath`. */
export class Allocator {
  constructor(
    private readonly mountPath: string,
    private readonly records: RecordStore,
    private readonly timeoutMs: number,
  ) {}

  get path(): string {
    return `${this.mountPath}/${ALLOCATOR_FILE}`;
  }

  /**
   * Takes the lowest free ID in [min, max].
   * @throws RangeError when every ID of the range is in use
   */
  async claim(min: number, max: number): Promise<number> {
    const content = await this.#load();
    const id = lowestFree(content.used, min, max);
    if (id === undefined) throw new RangeError(`every project ID from ${min} to ${max} is in use`);
    await this.#save({ version: 1, used: addId(content.used, id) });
    return id;
  }

  /** Gives `id` back. */
  async release(id: number): Promise<void> {
    const content = await this.#load();
    await this.#save({ version: 1, used: removeId(content.used, id) });
  }

  /** The allocator, built from the records and the trash when it is missing. */
  async #load(): Promise<AllocatorContent> {
    try {
      const text = await withTimeout(this.path, this.timeoutMs, () => Deno.readTextFile(this.path));
      return JSON.parse(text) as AllocatorContent;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    let used: IdRanges = [];
    for (const record of await this.records.all()) {
      if (Number.isSafeInteger(record.projectId)) used = addId(used, record.projectId);
      // Half-made volumes of older versions join the name index, so a retry can find them.
      if (record.state === "creating" && !(await this.records.dirOfName(record.name))) {
        await this.records.nameDir(record.name, record.dir);
      }
    }
    for (const id of await trashedProjectIds(this.mountPath, this.timeoutMs)) {
      used = addId(used, id);
    }
    const built: AllocatorContent = { version: 1, used };
    await this.#save(built);
    return built;
  }

  async #save(content: AllocatorContent): Promise<void> {
    const temp = `${this.path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    await withTimeout(
      this.path,
      this.timeoutMs,
      async () => {
        await Deno.mkdir(this.path.slice(0, this.path.lastIndexOf("/")), {
          recursive: true,
          mode: 0o700,
        });
        await Deno.writeTextFile(temp, JSON.stringify(content));
        await Deno.rename(temp, this.path);
      },
    );
  }
}
