/**
 * `lfs pcc state|detach|detach_fid` over the simulator's read-only PCC copies (pcc_cache.ts):
 * a file is attached while its copy exists in a dataset of its instance; detaching removes the
 * copy (`-k` keeps it, as for a later auto-attach).
 */
import type { StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { describeError, locate } from "./client_mounts.ts";
import { compareVersions } from "./options.ts";
import { cachedCopy, cachePath, fidOf, parseFid, recordAt } from "./pcc_cache.ts";

function state(ctx: StandInContext, files: string[]): number {
  let rc = 0;
  const v216 = compareVersions(ctx.state.version, "2.16.0") >= 0;
  for (const file of files) {
    try {
      const loc = locate(ctx.state, file);
      const record = recordAt(ctx.state, loc);
      const copy = record && cachedCopy(record, fidOf(loc.dataPath));
      if (!copy) ctx.out(`file: ${file}, type: none`);
      else if (v216) {
        ctx.out(`file: ${file}, type: readonly, PCC_file: ${copy}, open_count: 0, flags: 0`);
      } else ctx.out(`file: ${file}, type: readonly, PCC file: ${copy}, user number: 0, flags: 0`);
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(`lfs pcc state: cannot get PCC state of '${file}': ${text} (${errno})`);
      rc = errno;
    }
  }
  return rc;
}

function remove(path: string | undefined, keep: boolean): void {
  if (path && !keep) Deno.removeSync(path);
}

function detach(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "k", { keep: ["k", false] });
  const keep = parsed.opts.some(([k]) => k === "k");
  if (parsed.error || parsed.positionals.length === 0) {
    ctx.err("usage: lfs pcc detach [--keep|-k] <file> ...");
    return 22;
  }
  let rc = 0;
  for (const file of parsed.positionals) {
    try {
      const loc = locate(ctx.state, file);
      const record = recordAt(ctx.state, loc);
      remove(record && cachedCopy(record, fidOf(loc.dataPath)), keep);
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(`lfs pcc detach: cannot detach '${file}' from PCC: ${text} (${errno})`);
      rc = errno;
    }
  }
  return rc;
}

function detachFid(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "k", { keep: ["k", false] });
  const keep = parsed.opts.some(([k]) => k === "k");
  const [mnt, ...fids] = parsed.positionals;
  if (parsed.error || !mnt || fids.length === 0) {
    ctx.err("usage: lfs pcc detach_fid [--keep|-k] <mntpath> <fid>...");
    return 22;
  }
  let record;
  try {
    record = recordAt(ctx.state, locate(ctx.state, mnt));
  } catch (e) {
    const [errno, text] = describeError(e);
    ctx.err(`lfs pcc detach_fid: cannot open '${mnt}': ${text} (${errno})`);
    return errno;
  }
  let rc = 0;
  for (const fid of fids) {
    if (!parseFid(fid)) {
      ctx.err(`lfs pcc detach_fid: invalid FID '${fid}'`);
      rc = 22;
      continue;
    }
    const copy = record?.pcc.map((d) => cachePath(d.path, fid)).find((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
    remove(copy, keep);
  }
  return rc;
}

/** `lfs pcc`. */
export function lfsPcc(ctx: StandInContext, args: string[]): number {
  const [sub, ...rest] = args;
  switch (sub) {
    case "state":
      if (rest.length === 0) {
        ctx.err("usage: lfs pcc state <file> ...");
        return 22;
      }
      return state(ctx, rest);
    case "detach":
      return detach(ctx, rest);
    case "detach_fid":
      return detachFid(ctx, rest);
    default:
      ctx.err(`lfs pcc: '${sub ?? ""}' is not a valid command (state, detach, detach_fid)`);
      return 22;
  }
}
