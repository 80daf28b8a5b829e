/**
 * `lctl pcc add|del|clear|list` (2.15): datasets per client instance, checked like the
 * kernel's pcc_cmd_parse()/pcc_dataset_add(); errors exit with the errno.
 */
import type { StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { describeError, locate } from "./client_mounts.ts";
import { type PccDataset, updateState } from "./state.ts";
import { compareVersions } from "./options.ts";

const OPEN_ATTACH = 0x02;
const IO_ATTACH = 0x04;
const STAT_ATTACH = 0x08;
const AUTO_ATTACH = OPEN_ATTACH | IO_ATTACH | STAT_ATTACH;
const RWPCC = 0x10;
const ROPCC = 0x20;

const STRERROR: Record<number, string> = {
  2: "No such file or directory",
  17: "File exists",
  20: "Not a directory",
  22: "Invalid argument",
};

/**
 * Checks a rule like `projid={500 600}&fname={*.h5},uid={1001}` or `size>{1M}&uid<{1500}`:
 * `=` takes a list, `<`/`>` one number (uid, gid, projid, size); fname only `=`.
 */
export function isValidRule(rule: string): boolean {
  return rule.split(",").every((conj) =>
    conj !== "" && conj.split("&").every((expr) => {
      const m = /^(uid|gid|projid|fname|size)([=<>])\{([^{}]+)\}$/.exec(expr);
      if (!m) return false;
      const [, field, op, list] = m;
      const values = list.split(" ").filter((v) => v !== "");
      if (values.length === 0 || (op !== "=" && (values.length !== 1 || field === "fname"))) {
        return false;
      }
      if (field === "fname") return true;
      const number = field === "size" ? /^\d+[KMGTP]?$/i : /^\d+$/;
      return values.every((v) => number.test(v) && parseInt(v) <= 0xffffffff);
    })
  );
}

/** `lctl pcc del|clear` without -k: every cached copy (a FID-named file) of the dataset goes. */
function uncacheAll(dir: string): void {
  const walk = (path: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(path)];
    } catch {
      return;
    }
    for (const e of entries) {
      const child = `${path}/${e.name}`;
      if (e.isDirectory) walk(child);
      else if (e.isFile && /^0x[0-9a-f]+:0x[0-9a-f]+:0x[0-9a-f]+$/i.test(e.name)) {
        Deno.removeSync(child);
      }
    }
  };
  walk(dir);
}

/** Parses `RULE [key=value ...]` into a dataset, or returns the errno the kernel gives. */
export function parsePccParam(path: string, param: string): PccDataset | number {
  if (!path.startsWith("/")) return 22;
  const end = param.lastIndexOf("}");
  if (end < 0) return 22;
  const rule = param.slice(0, end + 1);
  const rest = param.slice(end + 1);
  if (rest !== "" && !rest.startsWith(" ")) return 22;
  if (!isValidRule(rule)) return 22;
  const d: PccDataset = { path, rwid: 0, roid: 0, flags: AUTO_ATTACH, rule };
  for (const pair of rest.split(" ").filter((p) => p !== "")) {
    const m = /^([a-z_]+)=(\d+)$/.exec(pair);
    if (!m) return 22;
    const [, key, raw] = m;
    const n = Number(raw);
    switch (key) {
      case "rwid":
      case "roid":
        if (n <= 0) return 22;
        d[key] = n;
        break;
      case "auto_attach":
        if (n === 0) d.flags &= ~AUTO_ATTACH;
        break;
      case "open_attach":
        if (n === 0) d.flags &= ~OPEN_ATTACH;
        break;
      case "io_attach":
        if (n === 0) d.flags &= ~IO_ATTACH;
        break;
      case "stat_attach":
        if (n === 0) d.flags &= ~STAT_ATTACH;
        break;
      case "rwpcc":
        if (n > 0) d.flags |= RWPCC;
        break;
      case "ropcc":
        if (n > 0) d.flags |= ROPCC;
        break;
      default:
        return 22;
    }
  }
  if ((d.flags & RWPCC) && (d.flags & ROPCC)) return 22;
  if ((d.flags & (RWPCC | ROPCC)) === 0) d.flags |= RWPCC | ROPCC;
  if ((d.flags & RWPCC) && d.rwid === 0) return 22;
  return d;
}

/** `lctl pcc`. */
export function lctlPcc(ctx: StandInContext, args: string[]): number {
  const [sub, ...rest] = args;
  const parsed = getopt(rest, "p:k", { param: ["p", true], keep: ["k", false] });
  if (!["add", "del", "clear", "list"].includes(sub) || parsed.error) {
    ctx.err("usage: pcc add|del|clear|list ...");
    return 4;
  }
  const [mnt, pccPath] = parsed.positionals;
  const param = parsed.opts.find(([k]) => k === "p")?.[1];
  const keep = parsed.opts.some(([k]) => k === "k");
  if (!mnt || ((sub === "add" || sub === "del") && !pccPath)) {
    ctx.err(`${sub}: missing mount point${sub === "add" || sub === "del" ? " or PCC path" : ""}`);
    return 4;
  }
  if (sub === "add" && param === undefined) {
    ctx.err("add: must specify the config param for PCC");
    return 4;
  }
  let inst: { fs: string; instance: string };
  try {
    const loc = locate(ctx.state, mnt);
    const instance = loc.instance ||
      ctx.state.runtime.mounts.find((m) => m.fs === loc.fs)?.instance;
    if (!instance) throw new Error("No such device (os error 19)");
    inst = { fs: loc.fs, instance };
  } catch (e) {
    const [errno, text] = describeError(e);
    ctx.err(`lctl pcc: cannot get instance for '${mnt}': ${text}`);
    return errno;
  }
  const fail = (cmd: string, errno: number) => {
    ctx.err(
      `lctl pcc: error: setting llite.${inst.fs}-${inst.instance}.pcc='${cmd}': ${
        STRERROR[errno] ?? "Unknown error"
      } (${errno})`,
    );
    return errno;
  };
  return updateState(ctx.root, (s) => {
    const record = s.runtime.mounts.find((m) => m.fs === inst.fs && m.instance === inst.instance);
    if (!record) return fail(sub, 19);
    switch (sub) {
      case "list":
        // The kernel adds datasets at the head of its list.
        for (const d of [...record.pcc].reverse()) {
          ctx.out(`${d.path}:`);
          ctx.out(`  rwid: ${d.rwid}`);
          ctx.out(`  flags: ${d.flags.toString(16)}`);
          ctx.out(`  autocache: ${d.rule}`);
        }
        return 0;
      case "clear":
        if (!keep) record.pcc.forEach((d) => uncacheAll(d.path));
        record.pcc = [];
        return 0;
      case "del": {
        const i = record.pcc.findIndex((d) => d.path === pccPath);
        if (i < 0) return fail(`del ${pccPath}`, 2);
        if (!keep) uncacheAll(record.pcc[i].path);
        record.pcc.splice(i, 1);
        return 0;
      }
      default: {
        const cmd = `add ${pccPath} ${param}`;
        const d = parsePccParam(pccPath, param!);
        if (typeof d === "number") return fail(cmd, d);
        // Read-only PCC (roid, ropcc) came with 2.16; older kernels refuse the keys.
        if (
          (d.roid !== 0 || /\bropcc=/.test(param!)) &&
          compareVersions(ctx.state.version, "2.16.0") < 0
        ) {
          return fail(cmd, 22);
        }
        try {
          if (!Deno.statSync(pccPath).isDirectory) return fail(cmd, 20);
        } catch {
          return fail(cmd, 2);
        }
        const clash = record.pcc.some((o) =>
          o.path === d.path || (d.rwid !== 0 && o.rwid === d.rwid) ||
          (d.roid !== 0 && o.roid === d.roid)
        );
        if (clash) return fail(cmd, 17);
        record.pcc.push(d);
        return 0;
      }
    }
  });
}
