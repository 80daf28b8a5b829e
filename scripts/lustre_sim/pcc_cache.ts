/**
 * Read-only PCC's data path, as far as a simulator without a kernel client can model it: a read
 * made with `lustre-sim read PATH` goes through the client instance holding PATH; when one of
 * the instance's read-only datasets has an autocache rule matching the file (fname, projid, uid,
 * gid), the first read copies the file from "Lustre" into the dataset's cache directory at
 * `<cache>/<FID hash dirs>/<FID>`, and later reads are served from that copy. Only reads served
 * from Lustre count in `llite.<inst>.stats` (read_bytes). Plain reads through the FUSE export
 * (`cat` in a pod) are served by bindfs and are neither cached nor counted (docs/simulator.md).
 */
import type { ClientMount, PccDataset, SimState } from "./state.ts";
import { simPaths } from "./state.ts";
import { locate, type SimLocation } from "./client_mounts.ts";
import { projectOf } from "./project.ts";

const ROPCC = 0x20;
/** The sequence of every simulated FID (a normal client sequence). */
const FID_SEQ = 0x200000401;

/** `0x200000401:0x1a:0x0`: a FID made from the inode number of the data file. */
export function fidOf(dataPath: string): string {
  const ino = Deno.statSync(dataPath).ino ?? 0;
  return `0x${FID_SEQ.toString(16)}:0x${ino.toString(16)}:0x0`;
}

/** Parses `0xSEQ:0xOID:0xVER` (brackets allowed); null when it is not a FID. */
export function parseFid(text: string): { seq: number; oid: number } | null {
  const m = /^\[?0x([0-9a-f]+):0x([0-9a-f]+):0x([0-9a-f]+)\]?$/i.exec(text);
  return m ? { seq: parseInt(m[1], 16), oid: parseInt(m[2], 16) } : null;
}

/** The cached copy's path: `<cache>/OOOO/oooo/SSSS/ssss/SSSS/ssss/<FID>` like pcc_fid2dataset_path(). */
export function cachePath(cache: string, fid: string): string {
  const parsed = parseFid(fid)!;
  const hex = (n: number) => (n & 0xffff).toString(16).padStart(4, "0");
  const seq = BigInt(parsed.seq);
  const dirs = [
    hex(parsed.oid),
    hex(Math.floor(parsed.oid / 0x10000)),
    hex(Number(seq & 0xffffn)),
    hex(Number((seq >> 16n) & 0xffffn)),
    hex(Number((seq >> 32n) & 0xffffn)),
    hex(Number((seq >> 48n) & 0xffffn)),
  ];
  return `${cache}/${dirs.join("/")}/${fid}`;
}

function globMatch(glob: string, name: string): boolean {
  const re = glob.replace(/[.+^${}()|\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${re}$`).test(name);
}

const SIZE_UNITS: Record<string, number> = {
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

function numberOf(text: string): number {
  const m = /^(\d+)([kmgtp]?)$/i.exec(text);
  return m ? Number(m[1]) * (SIZE_UNITS[m[2].toLowerCase()] ?? 1) : NaN;
}

/** Does `rule` (`a&b,c`; `=` over a list, `<`/`>` against one number) match a file? */
export function ruleMatches(
  rule: string,
  file: { name: string; uid: number; gid: number; projid: number; size?: number },
): boolean {
  return rule.split(",").some((conj) =>
    conj.split("&").every((term) => {
      const m = /^([a-z]+)([=<>])\{([^{}]*)\}$/.exec(term);
      if (!m) return false;
      const [, field, op, list] = m;
      const values = list.split(" ").filter((v) => v !== "");
      if (field === "fname") return op === "=" && values.some((g) => globMatch(g, file.name));
      const actual = { uid: file.uid, gid: file.gid, projid: file.projid, size: file.size ?? 0 }[
        field as "uid"
      ];
      if (actual === undefined) return false;
      if (op === "<") return actual < numberOf(values[0]);
      if (op === ">") return actual > numberOf(values[0]);
      return values.some((v) => numberOf(v) === actual);
    })
  );
}

/** The instance record behind a location. */
export function recordAt(state: SimState, loc: SimLocation): ClientMount | undefined {
  return state.runtime.mounts.find((m) => m.fs === loc.fs && m.instance === loc.instance);
}

/** The read-only dataset of `record` whose rule matches the file at `loc`, if any. */
export function matchingDataset(
  state: SimState,
  record: ClientMount,
  loc: SimLocation,
): PccDataset | undefined {
  const st = Deno.statSync(loc.dataPath);
  const file = {
    name: loc.fsPath.slice(loc.fsPath.lastIndexOf("/") + 1),
    uid: st.uid ?? 0,
    gid: st.gid ?? 0,
    projid: projectOf(simPaths(state.runtime.root).backing(loc.fs), loc.fsPath).id,
    size: st.size,
  };
  return record.pcc.find((d) => (d.flags & ROPCC) !== 0 && ruleMatches(d.rule, file));
}

/** Where a file is cached now in any dataset of its instance, if it is. */
export function cachedCopy(record: ClientMount, fid: string): string | undefined {
  for (const d of record.pcc) {
    const path = cachePath(d.path, fid);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this dataset
    }
  }
  return undefined;
}

/** What one read did. */
export interface ReadResult {
  readonly bytes: number;
  /** "pcc" when served from the cache copy, else "lustre". */
  readonly from: "pcc" | "lustre";
  /** Lustre bytes read (0 when served from the cache); the caller adds them to the stats. */
  readonly lustreBytes: number;
  readonly instance: string;
  readonly fs: string;
}

/**
 * Reads a whole file through its client instance (see the header). Runs under the state lock
 * of the caller, which then records `lustreBytes` on the instance.
 * @throws ErrnoError/Deno errors like a read would
 */
export function readThrough(state: SimState, path: string): ReadResult {
  const loc = locate(state, path);
  const record = recordAt(state, loc);
  const base = { instance: loc.instance, fs: loc.fs };
  if (!record) {
    const bytes = Deno.readFileSync(loc.dataPath).length;
    return { ...base, bytes, from: "lustre", lustreBytes: bytes };
  }
  const fid = fidOf(loc.dataPath);
  const cached = cachedCopy(record, fid);
  if (cached) {
    const bytes = Deno.readFileSync(cached).length;
    const now = new Date();
    Deno.utimeSync(cached, now, Deno.statSync(cached).mtime ?? now); // atime: LRU order
    return { ...base, bytes, from: "pcc", lustreBytes: 0 };
  }
  const data = Deno.readFileSync(loc.dataPath);
  const dataset = matchingDataset(state, record, loc);
  if (dataset) {
    const copy = cachePath(dataset.path, fid);
    try {
      Deno.mkdirSync(copy.slice(0, copy.lastIndexOf("/")), { recursive: true });
      Deno.writeFileSync(copy, data);
    } catch {
      // ENOSPC and the like: RO-PCC falls back to Lustre, the read still succeeds
      try {
        Deno.removeSync(copy);
      } catch {
        // nothing was written
      }
    }
  }
  return { ...base, bytes: data.length, from: "lustre", lustreBytes: data.length };
}
