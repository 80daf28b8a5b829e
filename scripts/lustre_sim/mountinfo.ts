/** Parsing of /proc/self/mountinfo and device numbers. */

/** One line of mountinfo. */
export interface MountEntry {
  id: number;
  parentId: number;
  /** `major:minor`. */
  dev: string;
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
  superOptions: string;
}

function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses mountinfo text into entries, in file order. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    entries.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      dev: fields[2],
      root: unescape(fields[3]),
      mountPoint: unescape(fields[4]),
      options: fields[5],
      fsType: fields[dash + 1],
      source: unescape(fields[dash + 2]),
      superOptions: fields[dash + 3] ?? "",
    });
  }
  return entries;
}

/** Reads and parses /proc/self/mountinfo. */
export function readMountInfo(): MountEntry[] {
  return parseMountInfo(Deno.readTextFileSync("/proc/self/mountinfo"));
}

/** Formats a `stat` device number as `major:minor` (glibc encoding). */
export function formatDev(dev: number): string {
  const n = BigInt(dev);
  const major = ((n >> 8n) & 0xfffn) | ((n >> 32n) & ~0xfffn);
  const minor = (n & 0xffn) | ((n >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** True when `path` equals `dir` or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/** The entry whose mount point is the deepest ancestor of `path` (among those given). */
export function findContainingMount(
  entries: MountEntry[],
  path: string,
): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    if (!isWithin(path, e.mountPoint)) continue;
    // Later entries stack on earlier ones at the same mount point.
    if (!best || e.mountPoint.length >= best.mountPoint.length) best = e;
  }
  return best;
}
