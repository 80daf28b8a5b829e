/** `lfs df` (2.15 showdf/mntdf layout) and `lfs getname`. */
import { statfsSync } from "node:fs";
import type { StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { usage } from "./lfs_help.ts";
import { clientEntries, describeError, locate, recordOf } from "./client_mounts.ts";
import { cook, left, right } from "./format.ts";
import { readMountInfo } from "./mountinfo.ts";
import { type FileSystemConfig, simPaths, type SimState } from "./state.ts";

/** Space (KiB or bytes) or inode counts of one target. */
interface Counts {
  total: number;
  used: number;
  avail: number;
}

/** Splits `n` into `parts` integers that add up to it (remainder to the first). */
function split(n: number, parts: number, index: number): number {
  const base = Math.floor(n / parts);
  return index === 0 ? n - base * (parts - 1) : base;
}

/** `obd_statfs_ratio`: used / (used + avail), rounded up. */
function ratio(c: Counts): number {
  const denom = c.used + c.avail;
  return denom === 0 ? 0 : Math.ceil((c.used * 100) / denom);
}

interface DfFlags {
  human: boolean;
  decimal: boolean;
  inodes: boolean;
}

function formatRow(uuid: string, c: Counts, flags: DfFlags, mount: string): string {
  const v = (n: number) =>
    flags.inodes
      ? (flags.human || flags.decimal ? cook(n, flags.decimal) : String(n))
      : flags.human || flags.decimal
      ? cook(n * 1024, flags.decimal)
      : String(n);
  return `${left(uuid, 20)} ${right(v(c.total), 11)} ${right(v(c.used), 11)} ${
    right(v(c.avail), 11)
  } ${right(`${ratio(c)}%`, 4)} ${mount}`;
}

/** The df rows of one file system mounted at `mount`. */
function dfLines(state: SimState, fs: FileSystemConfig, mount: string, flags: DfFlags): string[] {
  const st = statfsSync(simPaths(state.runtime.root).backing(fs.name));
  const kib = (blocks: number) => Math.floor((blocks * st.bsize) / 1024);
  const space = {
    total: kib(st.blocks),
    used: kib(st.blocks - st.bfree),
    avail: kib(st.bavail),
  };
  const files = { total: st.files, used: st.files - st.ffree, avail: st.ffree };
  const lines = [
    `${left("UUID", 20)} ${
      right(flags.inodes ? "Inodes" : flags.human || flags.decimal ? "bytes" : "1K-blocks", 11)
    } ${right(flags.inodes ? "IUsed" : "Used", 11)} ${
      right(flags.inodes ? "IFree" : "Available", 11)
    } ${right(flags.inodes ? "IUse%" : "Use%", 4)} Mounted on`,
  ];
  const part = (c: Counts, parts: number, i: number): Counts => ({
    total: split(c.total, parts, i),
    used: split(c.used, parts, i),
    avail: split(c.avail, parts, i),
  });
  for (let i = 0; i < fs.mdts; i++) {
    // An MDT's space is sized at 4 KiB per inode, like ldiskfs.
    const mdt = flags.inodes ? part(files, fs.mdts, i) : part(
      { total: files.total * 4, used: files.used * 4, avail: files.avail * 4 },
      fs.mdts,
      i,
    );
    const name = `${fs.name}-MDT${i.toString(16).padStart(4, "0")}_UUID`;
    lines.push(formatRow(name, mdt, flags, `${mount}[MDT:${i}]`));
  }
  for (let i = 0; i < fs.osts; i++) {
    const ost = part(flags.inodes ? files : space, fs.osts, i);
    const name = `${fs.name}-OST${i.toString(16).padStart(4, "0")}_UUID`;
    lines.push(formatRow(name, ost, flags, `${mount}[OST:${i}]`));
  }
  lines.push("", formatRow("filesystem_summary:", flags.inodes ? files : space, flags, mount), "");
  return lines;
}

/** `lfs df [-h|-H] [-i] [-l] [-v] [PATH]`. */
export function lfsDf(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "hHilvp:", {
    "human-readable": ["h", false],
    inodes: ["i", false],
    lazy: ["l", false],
    verbose: ["v", false],
    pool: ["p", true],
  });
  if (parsed.error || parsed.positionals.length > 1) return usage(ctx, "df", parsed.error);
  const flags: DfFlags = { human: false, decimal: false, inodes: false };
  for (const [opt] of parsed.opts) {
    if (opt === "h") flags.human = true;
    if (opt === "H") flags.decimal = true;
    if (opt === "i") flags.inodes = true;
  }
  const state = ctx.state;
  const fsOf = (name: string) => state.fileSystems.find((f) => f.name === name)!;
  const path = parsed.positionals[0];
  if (path !== undefined) {
    try {
      Deno.statSync(path);
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(`error: invalid path '${path}': ${text}`);
      return errno;
    }
    let loc;
    try {
      loc = locate(state, path);
    } catch {
      ctx.out(`df:${path} Not a Lustre filesystem`);
      return 95;
    }
    for (const line of dfLines(state, fsOf(loc.fs), loc.mount.mountPoint, flags)) ctx.out(line);
    return 0;
  }
  const seen = new Set<string>();
  const all = readMountInfo();
  for (const entry of clientEntries(state, all)) {
    const record = recordOf(state, entry, all);
    if (!record || seen.has(entry.mountPoint)) continue;
    seen.add(entry.mountPoint);
    for (const line of dfLines(state, fsOf(record.fs), entry.mountPoint, flags)) ctx.out(line);
  }
  return 0;
}

/** `lfs getname [-n|-i] [PATH...]`. */
export function lfsGetname(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "hni", { fsname: ["n", false], instance: ["i", false] });
  if (parsed.error) return usage(ctx, "getname", parsed.error);
  const has = (o: string) => parsed.opts.some(([k]) => k === o);
  if (has("h")) return usage(ctx, "getname");
  const show = (fs: string, instance: string) =>
    has("n") ? fs : has("i") ? instance : `${fs}-${instance}`;
  const state = ctx.state;
  if (parsed.positionals.length === 0) {
    const all = readMountInfo();
    for (const entry of clientEntries(state, all)) {
      const record = recordOf(state, entry, all);
      if (record) ctx.out(`${show(record.fs, record.instance)} ${entry.mountPoint}`);
    }
    return 0;
  }
  let rc = 0;
  for (const path of parsed.positionals) {
    try {
      const loc = locate(state, path);
      const instance = loc.instance ||
        state.runtime.mounts.find((m) => m.fs === loc.fs)?.instance;
      if (!instance) throw new Error("No such device (os error 19)");
      const text = show(loc.fs, instance);
      ctx.out(parsed.positionals.length === 1 ? text : `${text} ${path}`);
    } catch (e) {
      const [errno, message] = describeError(e);
      ctx.err(`cannot get instance for '${path}': ${message}`);
      if (!rc) rc = errno;
    }
  }
  return rc;
}
