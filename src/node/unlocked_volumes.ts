/**
 * Which staging paths hold an unlocked encrypted volume, and with which
 * key: one small file per staging path under the state directory (no key
 * material, only the key identifier). Unstage reads it, so volumes without
 * encryption never cost an ioctl, and it survives driver restarts.
 */
import { createHash } from "node:crypto";

/** Folder below the state directory. */
export const UNLOCKED_FOLDER = "unlocked";

/** One unlocked staging path. */
export interface UnlockedVolume {
  readonly staging: string;
  readonly volumeId: string;
  readonly keyIdentifier: string;
  /** The shared Lustre mount the key was added through. */
  readonly mountPath: string;
}

/** Records of unlocked volumes under `stateDir`. */
export class UnlockedVolumes {
  constructor(private readonly stateDir: string) {}

  get #dir(): string {
    return `${this.stateDir}/${UNLOCKED_FOLDER}`;
  }

  #path(staging: string): string {
    return `${this.#dir}/${createHash("sha256").update(staging).digest("hex").slice(0, 32)}.json`;
  }

  async remember(volume: UnlockedVolume): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const path = this.#path(volume.staging);
    const temp = `${path}.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(volume));
    await Deno.rename(temp, path);
  }

  /** The record of `staging`; undefined when it holds no unlocked volume. */
  async recall(staging: string): Promise<UnlockedVolume | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(this.#path(staging)));
    } catch {
      return undefined;
    }
  }

  async forget(staging: string): Promise<void> {
    await Deno.remove(this.#path(staging)).catch(() => undefined);
  }

  /** Every record. */
  async all(): Promise<UnlockedVolume[]> {
    const out: UnlockedVolume[] = [];
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        if (!entry.name.endsWith(".json")) continue;
        try {
          out.push(JSON.parse(await Deno.readTextFile(`${this.#dir}/${entry.name}`)));
        } catch {
          // removed meanwhile, or half-written by a crash: not a user
        }
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return out;
  }
}
