/**
 * The trash of one file system, `/.klustre-csi/trash/`: DeleteVolume renames
 * a volume's directory into an entry here (one rename, whatever the size of
 * the tree) and returns; the purger (controller/purger.ts) deletes the tree
 * later. An entry is `<token>/entry.json` (volume ID, directory, project
 * ID) and `<token>/tree` (the volume's directory as it was).
 */
import { withTimeout } from "../mount/path_health.ts";

/** Where the trash lives, relative to the file system root. */
export const TRASH_DIR = ".klustre-csi/trash";

/** What a trash entry records about the volume it holds. */
export interface TrashEntry {
  readonly volumeId: string;
  readonly dir: string;
  readonly projectId: number;
  /** When the directory was moved in (ISO time). */
  readonly trashedAt: string;
}

/** The trash folder under a mount. */
export function trashPath(mountPath: string): string {
  return `${mountPath}/${TRASH_DIR}`;
}

/** A fresh entry name: sortable by time, unique across controllers. */
export function newTrashToken(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}-${crypto.randomUUID().slice(0, 12)}`;
}

/** Makes entry `token` with its description (idempotent). */
export async function writeTrashEntry(
  mountPath: string,
  token: string,
  entry: TrashEntry,
  timeoutMs: number,
): Promise<void> {
  const folder = `${trashPath(mountPath)}/${token}`;
  await withTimeout(folder, timeoutMs, async () => {
    await Deno.mkdir(folder, { recursive: true, mode: 0o700 });
    const temp = `${folder}/entry.json.tmp`;
    await Deno.writeTextFile(temp, JSON.stringify(entry));
    await Deno.rename(temp, `${folder}/entry.json`);
  });
}

/** The entries in the trash, by token (an entry without a readable description is skipped). */
export async function listTrash(
  mountPath: string,
  timeoutMs: number,
): Promise<Map<string, TrashEntry>> {
  const root = trashPath(mountPath);
  const tokens: string[] = [];
  try {
    await withTimeout(root, timeoutMs, async () => {
      for await (const item of Deno.readDir(root)) {
        if (item.isDirectory) tokens.push(item.name);
      }
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return new Map();
    throw error;
  }
  const entries = new Map<string, TrashEntry>();
  for (const token of tokens.sort()) {
    const path = `${root}/${token}/entry.json`;
    try {
      entries.set(
        token,
        JSON.parse(await withTimeout(path, timeoutMs, () => Deno.readTextFile(path))),
      );
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound) && !(error instanceof SyntaxError)) throw error;
    }
  }
  return entries;
}

/** The project IDs trash entries still hold (their trees are not purged yet). */
export async function trashedProjectIds(mountPath: string, timeoutMs: number): Promise<number[]> {
  const entries = await listTrash(mountPath, timeoutMs);
  return [...entries.values()].map((e) => e.projectId).filter((id) => Number.isSafeInteger(id));
}
