/**
 * Striping: `lfs setstripe`/`getstripe` (plain layouts only, kept in a `user.lustre_sim.lov`
 * xattr) and DNE: `lfs mkdir`/`setdirstripe`/`getdirstripe` (a `user.lustre_sim.lmv` xattr).
 */
import type { StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { usage } from "./lfs_help.ts";
import { describeError, ErrnoError, locate, type SimLocation } from "./client_mounts.ts";
import { parseSize } from "./format.ts";
import { getXattr, removeXattr, setXattr } from "./xattr.ts";
import type { FileSystemConfig } from "./state.ts";
import { compareVersions } from "./options.ts";

/** First client whose lfs and llite know client-side data compression (`--compress`). */
export const COMPRESSION_VERSION = "2.17.0";
/** Compression algorithms of `--compress TYPE[:LEVEL]`. */
const COMPRESS_TYPES = ["none", "gzip", "lz4", "lz4fast", "lz4hc", "lzo", "zstd", "zstdfast"];

const LOV_XATTR = "user.lustre_sim.lov";
const LMV_XATTR = "user.lustre_sim.lmv";
const DEFAULT_STRIPE_SIZE = 1048576;

/** An error whose message is the whole line after `lfs setstripe: `. */
class LayoutError extends ErrnoError {}

/** A plain layout: count (-1 = all OSTs), size in bytes, first OST (-1 = any), pool. */
interface Layout {
  count: number;
  size: number;
  offset: number;
  pool: string;
  /** Client-side data compression (2.17): the layout becomes one composite component. */
  compr?: { type: string; level: number; chunkKb: number };
}

/** Parses `--compress TYPE[:LEVEL]` and `--compress-chunk SIZE`; an error message or the value. */
function parseCompression(
  type: string,
  chunk: string | undefined,
): string | { type: string; level: number; chunkKb: number } {
  const m = /^([a-z0-9]+)(?::(\d+))?$/.exec(type);
  if (!m || !COMPRESS_TYPES.includes(m[1])) return `invalid compression type '${type}'`;
  const level = m[2] === undefined ? 0 : Number(m[2]);
  if (level > 15) return `invalid compression level '${m[2]}'`;
  const bytes = chunk === undefined ? 65536 : parseSize(chunk, 1024);
  if (bytes === null || bytes < 65536 || bytes > 2 ** 31 || (bytes & (bytes - 1)) !== 0) {
    return `invalid compression chunk size '${chunk}'`;
  }
  return { type: m[1], level, chunkKb: bytes / 1024 };
}

function parentDir(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : trimmed.slice(0, i);
}

function fsConfig(ctx: StandInContext, loc: SimLocation): FileSystemConfig {
  return ctx.state.fileSystems.find((f) => f.name === loc.fs)!;
}

/** `lfs setstripe [-c N] [-S SIZE] [-i IDX] [-p POOL] [-d] PATH`. */
export function lfsSetstripe(ctx: StandInContext, args: string[]): number {
  // Older lfs does not know the compression options at all.
  const compression = compareVersions(ctx.state.version, COMPRESSION_VERSION) >= 0
    ? { compress: ["compress", true], "compress-chunk": ["compress-chunk", true] }
    : {};
  const parsed = getopt(args, "c:S:i:o:p:dE:", {
    "stripe-count": ["c", true],
    "stripe-size": ["S", true],
    "stripe-index": ["i", true],
    ost: ["o", true],
    pool: ["p", true],
    delete: ["d", false],
    "component-end": ["E", true],
    ...compression as Record<string, [string, boolean]>,
  });
  if (parsed.error) return usage(ctx, "setstripe", parsed.error);
  if (parsed.positionals.length === 0) return usage(ctx, "setstripe", "missing filename|dirname");
  const layout: Layout = { count: 0, size: 0, offset: -1, pool: "" };
  let del = false;
  for (const [opt, value] of parsed.opts) {
    if (opt === "E") return usage(ctx, "setstripe", "composite (PFL) layouts are not simulated");
    if (opt === "d") del = true;
    else if (opt === "c") {
      if (!/^-?\d+$/.test(value) || Number(value) < -1) {
        return usage(ctx, "setstripe", `invalid stripe count '${value}'`);
      }
      layout.count = Number(value);
    } else if (opt === "S") {
      const bytes = /^\d+$/.test(value) && Number(value) < 4096
        ? Number(value) * 1024
        : parseSize(value, 1);
      if (bytes === null || bytes % 65536 !== 0) {
        ctx.err(`lfs setstripe: invalid stripe size '${value}'`);
        return 22;
      }
      layout.size = bytes;
    } else if (opt === "i" || opt === "o") {
      if (!/^-?\d+$/.test(value)) {
        return usage(ctx, "setstripe", `invalid stripe offset '${value}'`);
      }
      layout.offset = Number(value);
    } else if (opt === "p") layout.pool = value;
  }
  const compress = parsed.opts.findLast(([k]) => k === "compress")?.[1];
  const chunk = parsed.opts.findLast(([k]) => k === "compress-chunk")?.[1];
  if (compress !== undefined || chunk !== undefined) {
    const compr = parseCompression(compress ?? "none", chunk);
    if (typeof compr === "string") {
      ctx.err(`lfs setstripe: ${compr}`);
      return 22;
    }
    layout.compr = compr;
  }
  let rc = 0;
  for (const path of parsed.positionals) {
    try {
      setOne(ctx, path, layout, del);
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(
        e instanceof LayoutError
          ? `lfs setstripe: ${text}`
          : `lfs setstripe: cannot set layout of '${path}': ${text} (${errno})`,
      );
      if (!rc) rc = errno;
    }
  }
  return rc;
}

function setOne(ctx: StandInContext, path: string, layout: Layout, del: boolean): void {
  let exists = true;
  try {
    Deno.lstatSync(path);
  } catch {
    exists = false;
  }
  const loc = locate(ctx.state, exists ? path : parentDir(path));
  const fs = fsConfig(ctx, loc);
  if (layout.pool && !(layout.pool in fs.pools)) {
    throw new LayoutError(22, `pool '${fs.name}.${layout.pool}' does not exist`);
  }
  if (layout.offset >= fs.osts) {
    throw new LayoutError(22, `invalid stripe offset '${layout.offset}': Invalid argument (22)`);
  }
  if (exists) {
    const target = locate(ctx.state, path);
    if (!Deno.statSync(target.dataPath).isDirectory) {
      throw new LayoutError(17, `setstripe error for '${path}': stripe already set`);
    }
    if (del) removeXattr(target.dataPath, LOV_XATTR);
    else setXattr(target.dataPath, LOV_XATTR, JSON.stringify(layout));
    return;
  }
  if (del) throw new ErrnoError(2, "No such file or directory");
  Deno.writeFileSync(path, new Uint8Array(), { createNew: true });
  setXattr(locate(ctx.state, path).dataPath, LOV_XATTR, JSON.stringify(layout));
}

function readLayout(dataPath: string): Layout | null {
  const raw = getXattr(dataPath, LOV_XATTR);
  return raw === null ? null : JSON.parse(raw) as Layout;
}

/** `lfs getstripe [-d] [-c|-S|-i|-p] PATH...`. */
export function lfsGetstripe(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "dcSipy", {
    directory: ["d", false],
    "stripe-count": ["c", false],
    "stripe-size": ["S", false],
    "stripe-index": ["i", false],
    pool: ["p", false],
  });
  if (parsed.error) return usage(ctx, "getstripe", parsed.error);
  if (parsed.positionals.length === 0) return usage(ctx, "getstripe", "missing filename|dirname");
  const only = parsed.opts.map(([k]) => k).find((k) => "cSip".includes(k));
  let rc = 0;
  for (const path of parsed.positionals) {
    try {
      const loc = locate(ctx.state, path);
      const isDir = Deno.statSync(loc.dataPath).isDirectory;
      const stored = readLayout(loc.dataPath);
      const l: Layout = {
        count: stored?.count || 1,
        size: stored?.size || DEFAULT_STRIPE_SIZE,
        offset: stored?.offset ?? -1,
        pool: stored?.pool ?? "",
      };
      if (only) {
        const value = { c: l.count, S: l.size, i: l.offset, p: l.pool }[only as "c"];
        ctx.out(String(value));
      } else if (isDir && stored?.compr) {
        // A compressed default is one composite component covering the whole file.
        const c = stored.compr;
        ctx.out(`  lcm_layout_gen:    0`);
        ctx.out(`  lcm_mirror_count:  1`);
        ctx.out(`  lcm_entry_count:   1`);
        ctx.out(`    lcme_id:             N/A`);
        ctx.out(`    lcme_mirror_id:      N/A`);
        ctx.out(`    lcme_flags:          ${c.type === "none" ? "0" : "compress"}`);
        ctx.out(`    lcme_extent.e_start: 0`);
        ctx.out(`    lcme_extent.e_end:   EOF`);
        ctx.out(`    lcme_compr_type:     ${c.type}`);
        ctx.out(`    lcme_compr_lvl:      ${c.level}`);
        ctx.out(`    lcme_compr_chunk_kb: ${c.chunkKb}`);
        ctx.out(
          `      stripe_count:  ${l.count}       stripe_size:   ${l.size}       pattern:       raid0${
            c.type === "none" ? "" : ",compress"
          }       stripe_offset: ${l.offset}` + (l.pool ? `       pool:          ${l.pool}` : ""),
        );
      } else if (isDir) {
        ctx.out(
          `stripe_count:  ${l.count} stripe_size:   ${l.size} pattern:       raid0 stripe_offset: ${l.offset}` +
            (l.pool ? ` pool:          ${l.pool}` : ""),
        );
      } else {
        ctx.out(path);
        ctx.out(`lmm_stripe_count:  ${l.count === -1 ? fsConfig(ctx, loc).osts : l.count}`);
        ctx.out(`lmm_stripe_size:   ${l.size}`);
        ctx.out("lmm_pattern:       raid0");
        ctx.out("lmm_layout_gen:    0");
        ctx.out(`lmm_stripe_offset: ${l.offset === -1 ? 0 : l.offset}`);
        if (l.pool) ctx.out(`lmm_pool:          ${l.pool}`);
      }
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(`lfs getstripe: cannot open '${path}': ${text} (${errno})`);
      if (!rc) rc = errno;
    }
  }
  return rc;
}

/** `lfs mkdir [-i MDT] [-c COUNT] [-H HASH] DIR` (alias of setdirstripe). */
export function lfsMkdir(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "i:c:H:D", {
    "mdt-index": ["i", true],
    "mdt-count": ["c", true],
    "mdt-hash": ["H", true],
    "default": ["D", false],
  });
  if (parsed.error) return usage(ctx, "mkdir", parsed.error);
  if (parsed.positionals.length === 0) return usage(ctx, "mkdir", "missing dirname");
  let index = -1;
  let count = 1;
  let hash = "fnv_1a_64";
  for (const [opt, value] of parsed.opts) {
    if ((opt === "i" || opt === "c") && !/^-?\d+$/.test(value)) {
      return usage(
        ctx,
        "mkdir",
        `invalid ${opt === "i" ? "MDT index" : "stripe count"} '${value}'`,
      );
    }
    if (opt === "i") index = Number(value);
    if (opt === "c") count = Number(value);
    if (opt === "H") hash = value;
  }
  let rc = 0;
  for (const dir of parsed.positionals) {
    try {
      const loc = locate(ctx.state, parentDir(dir));
      const fs = fsConfig(ctx, loc);
      if (index >= fs.mdts || count > fs.mdts || count < -1) {
        throw new ErrnoError(22, "Invalid argument");
      }
      Deno.mkdirSync(dir);
      const lmv = {
        count: count === 1 ? 0 : count === -1 ? fs.mdts : count,
        offset: Math.max(index, 0),
        hash,
      };
      setXattr(locate(ctx.state, dir).dataPath, LMV_XATTR, JSON.stringify(lmv));
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(
        `lfs setdirstripe: cannot create dir '${dir}': ${errno === 17 ? "File exists" : text}`,
      );
      if (!rc) rc = errno;
    }
  }
  return rc;
}

/** `lfs getdirstripe [-m] DIR`. */
export function lfsGetdirstripe(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "mic", { "mdt-index": ["m", false], "mdt-count": ["c", false] });
  if (parsed.error) return usage(ctx, "getdirstripe", parsed.error);
  if (parsed.positionals.length === 0) return usage(ctx, "getdirstripe", "missing dirname");
  const has = (o: string) => parsed.opts.some(([k]) => k === o);
  let rc = 0;
  for (const dir of parsed.positionals) {
    try {
      const loc = locate(ctx.state, dir);
      const raw = getXattr(loc.dataPath, LMV_XATTR);
      const lmv = raw ? JSON.parse(raw) : { count: 0, offset: 0, hash: "none" };
      if (has("m") || has("i")) ctx.out(String(lmv.offset));
      else if (has("c")) ctx.out(String(lmv.count));
      else {
        ctx.out(
          `lmv_stripe_count: ${lmv.count} lmv_stripe_offset: ${lmv.offset} lmv_hash_type: ${
            lmv.count === 0 ? "none" : lmv.hash
          }`,
        );
      }
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(`lfs getdirstripe: cannot open '${dir}': ${text}`);
      if (!rc) rc = errno;
    }
  }
  return rc;
}
