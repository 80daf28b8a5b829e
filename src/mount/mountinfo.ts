/** Parsing of /proc/self/mountinfo (proc(5)), the driver's source of truth. */

/** One line of mountinfo. */
export interface MountInfo {
  readonly id: number;
  readonly parentId: number;
  readonly major: number;
  readonly minor: number;
  /** Path of the mounted directory inside its file system ("/" or "/sub"). */
  readonly root: string;
  readonly mountPoint: string;
  /** Per-mount options, e.g. ["rw", "nosuid"]. */
  readonly options: readonly string[];
  readonly optionalFields: readonly string[];
  readonly fsType: string;
  readonly source: string;
  readonly superOptions: readonly string[];
}

/**
 * Parses mountinfo text; octal escapes (\040 for a space) are decoded.
 * @throws SyntaxError naming the malformed line
 */
export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(" ");
    const separator = fields.indexOf("-", 6);
    if (separator < 0 || fields.length < separator + 4) {
      throw new SyntaxError(`Cannot parse mountinfo line "${line}"`);
    }
    const [major, minor] = fields[2].split(":").map(Number);
    mounts.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      major,
      minor,
      root: unescapeOctal(fields[3]),
      mountPoint: unescapeOctal(fields[4]),
      options: fields[5].split(","),
      optionalFields: fields.slice(6, separator),
      fsType: fields[separator + 1],
      source: unescapeOctal(fields[separator + 2]),
      superOptions: fields[separator + 3].split(","),
    });
  }
  return mounts;
}

/** Decodes the \NNN octal escapes the kernel writes for space, tab, newline and backslash. */
export function unescapeOctal(text: string): string {
  return text.replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}

/** Per list of mounts (and its length when indexed), the topmost mount at each path. */
const topmost = new WeakMap<readonly MountInfo[], { length: number; at: Map<string, MountInfo> }>();

/** The topmost mount at exactly `path` (later lines cover earlier ones), if any. */
export function mountAt(mounts: readonly MountInfo[], path: string): MountInfo | undefined {
  if (mounts.length < 64) {
    for (let i = mounts.length - 1; i >= 0; i--) {
      if (mounts[i].mountPoint === path) return mounts[i];
    }
    return undefined;
  }
  // A node with hundreds of volumes: one index per read of mountinfo, shared by its callers.
  let index = topmost.get(mounts);
  if (index?.length !== mounts.length) {
    index = { length: mounts.length, at: new Map(mounts.map((m) => [m.mountPoint, m])) };
    topmost.set(mounts, index);
  }
  return index.at.get(path);
}

/** True when two mounts show the same directory of the same file system. */
export function sameDirectory(a: MountInfo, b: MountInfo): boolean {
  return a.major === b.major && a.minor === b.minor && a.root === b.root;
}

/** True when the per-mount options make the mount read-only. */
export function isReadOnly(mount: MountInfo): boolean {
  return mount.options.includes("ro");
}
