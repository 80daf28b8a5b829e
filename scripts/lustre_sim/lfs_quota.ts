/**
 * `lfs setquota` and `lfs quota` (2.15 layout). Limits live in the simulator state; usage is
 * counted from the backing store. Nothing is enforced: the kernel here has no Lustre quota.
 */
import type { StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { CMD_HELP, usage } from "./lfs_help.ts";
import { describeError, locate, type SimLocation } from "./client_mounts.ts";
import { kbytesToString, parseSize, right } from "./format.ts";
import { sumUsage } from "./project.ts";
import { type QuotaLimits, simPaths, updateState } from "./state.ts";

const TYPES = {
  u: { name: "usr", idName: "uid", long: "user" },
  g: { name: "grp", idName: "gid", long: "group" },
  p: { name: "prj", idName: "pid", long: "project" },
} as const;
type QuotaType = keyof typeof TYPES;

const NO_LIMITS: Readonly<QuotaLimits> = Object.freeze({ bsoft: 0, bhard: 0, isoft: 0, ihard: 0 });

function parseId(text: string): number | null {
  return /^\d+$/.test(text) && Number(text) < 4294967295 ? Number(text) : null;
}

/** `lfs setquota {-u|-g|-p} ID [-b N] [-B N] [-i N] [-I N] PATH`. */
export function lfsSetquota(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "u:g:p:b:B:i:I:", {
    user: ["u", true],
    group: ["g", true],
    projid: ["p", true],
    "block-softlimit": ["b", true],
    "block-hardlimit": ["B", true],
    "inode-softlimit": ["i", true],
    "inode-hardlimit": ["I", true],
  });
  if (parsed.error) return usage(ctx, "setquota", parsed.error);
  let type: QuotaType | undefined;
  let idText = "";
  const limits: Partial<QuotaLimits> = {};
  for (const [opt, value] of parsed.opts) {
    if (opt === "u" || opt === "g" || opt === "p") {
      type = opt;
      idText = value;
      continue;
    }
    const isBlock = opt === "b" || opt === "B";
    const n = isBlock ? parseSize(value, 1024) : /^\d+$/.test(value) ? Number(value) : null;
    if (n === null) {
      ctx.err(`lfs setquota: bad limit value '${value}'`);
      return usage(ctx, "setquota");
    }
    const key = ({ b: "bsoft", B: "bhard", i: "isoft", I: "ihard" } as const)[opt as "b"];
    limits[key] = isBlock ? Math.floor(n / 1024) : n;
  }
  if (!type) return usage(ctx, "setquota", "must specify one of -u, -g or -p");
  const id = parseId(idText);
  if (id === null) {
    ctx.err(`lfs setquota: invalid ${TYPES[type].long} id '${idText}'`);
    return 1;
  }
  if (id === 0) {
    ctx.err("lfs setquota: can't set quota for root usr/group/project.");
    return 1;
  }
  if (Object.keys(limits).length === 0) {
    ctx.err("lfs setquota: at least one limit must be specified");
    return usage(ctx, "setquota");
  }
  if (parsed.positionals.length !== 1) {
    ctx.err("lfs setquota: filesystem not specified or unexpected argument");
    return usage(ctx, "setquota");
  }
  let loc: SimLocation;
  try {
    loc = locate(ctx.state, parsed.positionals[0]);
  } catch (e) {
    const [errno, text] = describeError(e);
    ctx.err(`lfs setquota: quotactl failed: ${text}`);
    ctx.err(`setquota failed: ${text}`);
    return errno;
  }
  const labels = {
    bsoft: "block softlimit",
    bhard: "block hardlimit",
    isoft: "inode softlimit",
    ihard: "inode hardlimit",
  };
  for (const [key, value] of Object.entries(limits) as [keyof QuotaLimits, number][]) {
    if (value > 0 && value <= 1024) {
      ctx.err(`lfs setquota: warning: ${labels[key]} '${value}' smaller than minimum qunit size`);
      ctx.err("See 'lfs help setquota' or Lustre manual for details");
    }
  }
  updateState(ctx.root, (s) => {
    const fsQuotas = s.runtime.quotas[loc.fs] ??= {};
    const key = `${type}:${id}`;
    fsQuotas[key] = { ...(fsQuotas[key] ?? NO_LIMITS), ...limits };
  });
  return 0;
}

/** `lfs quota [-q] [-v] [-h] [-u|-g|-p ID] MOUNT`. */
export function lfsQuota(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "u:g:p:hqv", {
    "human-readable": ["h", false],
    quiet: ["q", false],
    verbose: ["v", false],
  });
  if (parsed.error) return usage(ctx, "quota", parsed.error);
  const queries: [QuotaType, string][] = [];
  let human = false;
  let quiet = false;
  for (const [opt, value] of parsed.opts) {
    if (opt === "u" || opt === "g" || opt === "p") queries.push([opt, value]);
    else if (opt === "h") human = true;
    else if (opt === "q") quiet = true;
  }
  if (parsed.positionals.length !== 1) return usage(ctx, "quota", "missing or extra mount point");
  const mount = parsed.positionals[0];
  if (queries.length === 0) queries.push(["u", String(Deno.uid())], ["g", String(Deno.gid())]);
  let loc: SimLocation;
  try {
    loc = locate(ctx.state, mount);
  } catch (e) {
    const [errno, text] = describeError(e);
    ctx.err(`Unexpected quotactl error: ${text}`);
    return errno;
  }
  const fs = ctx.state.fileSystems.find((f) => f.name === loc.fs)!;
  const totals = sumUsage(simPaths(ctx.root).backing(loc.fs));
  for (const [type, idText] of queries) {
    const id = parseId(idText);
    if (id === null) {
      ctx.err(`lfs quota: invalid ${TYPES[type].long} name '${idText}'`);
      return CMD_HELP;
    }
    if (!fs.quotaEnabled) {
      ctx.out(`${TYPES[type].name} quotas are not enabled.`);
      return 3;
    }
    const limits = ctx.state.runtime.quotas[loc.fs]?.[`${type}:${id}`] ?? NO_LIMITS;
    const used = totals.get(`${type}:${id}`) ?? { kbytes: 0, inodes: 0 };
    if (!quiet) {
      ctx.out(`Disk quotas for ${TYPES[type].name} ${idText} (${TYPES[type].idName} ${id}):`);
      ctx.out(
        right("Filesystem", 15) + right(human ? "used" : "kbytes", 8) + " " + right("quota", 7) +
          right("limit", 8) + right("grace", 8) + right("files", 8) + " " + right("quota", 7) +
          right("limit", 8) + right("grace", 8),
      );
    }
    ctx.out(formatRow(mount, used, limits, human));
  }
  return 0;
}

/** One 2.15 row; a mount path over 15 characters goes on its own line. */
export function formatRow(
  mount: string,
  used: { kbytes: number; inodes: number },
  limits: QuotaLimits,
  human: boolean,
): string {
  const head = mount.length > 15 ? `${mount}\n${"".padStart(15)}` : right(mount, 15);
  const part = (value: string, over: boolean, soft: string, hard: string, grace: string) =>
    ` ${right(value, 7)}${over ? "*" : " "} ${right(soft, 6)} ${right(hard, 7)} ${right(grace, 7)}`;
  const bOver = (limits.bhard > 0 && used.kbytes >= limits.bhard) ||
    (limits.bsoft > 0 && used.kbytes > limits.bsoft);
  const iOver = (limits.ihard > 0 && used.inodes >= limits.ihard) ||
    (limits.isoft > 0 && used.inodes > limits.isoft);
  const grace = (soft: number, value: number) => soft > 0 && value > soft ? "6d23h59m59s" : "-";
  const k = (n: number) => kbytesToString(n, human);
  return head +
    part(
      k(used.kbytes),
      bOver,
      k(limits.bsoft),
      k(limits.bhard),
      grace(limits.bsoft, used.kbytes),
    ) +
    part(
      String(used.inodes),
      iOver,
      String(limits.isoft),
      String(limits.ihard),
      grace(limits.isoft, used.inodes),
    );
}
