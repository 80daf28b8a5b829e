/** Stand-in for `lctl` (2.15): get_param, set_param, list_nids, ping, pcc. */
import { runStandIn, type StandInContext } from "./stand_in.ts";
import { getopt } from "./getopt.ts";
import { liveInstances } from "./client_mounts.ts";
import { instanceParams, matchParam, normalisePattern, type Param, paramValue } from "./params.ts";
import { canonicalNid } from "./source.ts";
import { sleepMs } from "./proc.ts";
import { updateState } from "./state.ts";
import { lctlPcc } from "./lctl_pcc.ts";

const LNET_DOWN = [
  "opening /dev/lnet failed: No such device",
  "hint: the kernel modules may not be loaded",
];

/** Every parameter visible now: `version` plus the tunables of live instances. */
function allParams(ctx: StandInContext): Param[] {
  if (!ctx.state.modulesLoaded) return [];
  const version: Param = {
    name: "version",
    sysPath: "/sys/fs/lustre/version",
    record: null,
    def: { def: ctx.state.version, range: null },
  };
  return [
    version,
    ...liveInstances(ctx.state).flatMap((r) => instanceParams(ctx.state, r)),
  ].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function pathOf(pattern: string): string {
  return normalisePattern(pattern).replaceAll(".", "/");
}

function getParam(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "nNFR");
  if (parsed.error || parsed.positionals.length === 0) {
    ctx.err("usage: get_param [-F|n|N|R] <param_path1 param_path2 ...>");
    return 4;
  }
  const valueOnly = parsed.opts.some(([k]) => k === "n");
  const nameOnly = parsed.opts.some(([k]) => k === "N");
  const params = allParams(ctx);
  let rc = 0;
  for (const pattern of parsed.positionals) {
    const matches = params.filter((p) => matchParam(pattern, p.name));
    if (matches.length === 0) {
      ctx.err(`error: get_param: param_path '${pathOf(pattern)}': No such file or directory`);
      rc = 2;
      continue;
    }
    for (const p of matches) {
      const value = p.name === "version" ? ctx.state.version : paramValue(p);
      if (nameOnly) ctx.out(p.name);
      else if (valueOnly) ctx.out(value.replace(/^\n/, ""));
      else ctx.out(`${p.name}=${value}`);
    }
  }
  return rc;
}

function setParam(ctx: StandInContext, args: string[]): number {
  const parsed = getopt(args, "nPd");
  if (parsed.error || parsed.positionals.length === 0) {
    ctx.err("usage: set_param [-n] [-P] [-d] <param_path1=value1 param_path2=value2 ...>");
    return 4;
  }
  const quiet = parsed.opts.some(([k]) => k === "n");
  const persistent = parsed.opts.some(([k]) => k === "P");
  const params = allParams(ctx);
  let rc = 0;
  const changes: [Param, string][] = [];
  const newPersistent: [string, string][] = [];
  for (const arg of parsed.positionals) {
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      ctx.err(`error: set_param: setting ${arg}: Invalid argument`);
      rc = 22;
      continue;
    }
    const pattern = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    const matches = params.filter((p) => matchParam(pattern, p.name));
    if (persistent) newPersistent.push([normalisePattern(pattern), value]);
    if (matches.length === 0 && !persistent) {
      ctx.err(`error: set_param: param_path '${pathOf(pattern)}': No such file or directory`);
      rc = 2;
      continue;
    }
    for (const p of matches) {
      const range = p.def.range;
      const readOnly = p.name === "version";
      const valid = p.name.endsWith(".stats") ||
        (range !== null && /^\d+$/.test(value) && Number(value) >= range[0] &&
          Number(value) <= range[1]);
      if (readOnly || !valid) {
        const why = readOnly ? "Permission denied" : "Invalid argument";
        ctx.err(`error: set_param: setting ${p.sysPath}=${value}: ${why}`);
        rc = readOnly ? 13 : 22;
        continue;
      }
      changes.push([p, value]);
      if (!quiet) ctx.out(`${p.name}=${value}`);
    }
  }
  if (changes.length > 0 || newPersistent.length > 0) {
    updateState(ctx.root, (s) => {
      s.runtime.persistentParams.push(...newPersistent);
      for (const [p, value] of changes) {
        const record = s.runtime.mounts.find((m) =>
          m.instance === p.record?.instance && m.fs === p.record.fs
        );
        if (!record) continue;
        if (p.name.endsWith(".stats")) {
          record.startMs = Date.now();
          delete record.reads;
        } else record.params[p.name] = value;
      }
    });
  }
  return rc;
}

function listNids(ctx: StandInContext, args: string[]): number {
  if (!ctx.state.modulesLoaded) {
    LNET_DOWN.forEach((l) => ctx.err(l));
    return 1;
  }
  if (args[0] === "all") ctx.out("0@lo");
  ctx.state.clientNids.forEach((nid) => ctx.out(nid));
  return 0;
}

function ping(ctx: StandInContext, args: string[]): number {
  if (args.length === 0) {
    ctx.err("usage: ping nid [timeout] [pid]");
    return 4;
  }
  if (!ctx.state.modulesLoaded) {
    LNET_DOWN.forEach((l) => ctx.err(l));
    return 1;
  }
  const nid = canonicalNid(args[0], ctx.state.hosts);
  if (nid === null || nid === "unsupported") {
    ctx.err(`Can't parse nid "${args[0]}"`);
    return 1;
  }
  const timeoutS = args[1] === undefined ? 1 : Number(args[1]);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 120) {
    ctx.err(`Invalid timeout "${args[1]}"`);
    return 1;
  }
  const down = ctx.state.faults.mgsDown;
  const node = nid === "0@lo" || ctx.state.clientNids.includes(nid)
    ? ctx.state.clientNids
    : ctx.state.mgsNodes.find((n) => n.includes(nid));
  const reachable = node !== undefined &&
    !(ctx.state.mgsNodes.flat().includes(nid) && down &&
      (down.nids === null || down.nids.includes(nid)));
  if (!reachable) {
    sleepMs(Math.min(timeoutS * 1000, down?.delayMs ?? 0));
    ctx.err(`failed to ping ${nid}: Input/output error`);
    return 1;
  }
  ctx.out("12345-0@lo");
  for (const n of node!) ctx.out(`12345-${n}`);
  return 0;
}

const COMMANDS: Record<string, (ctx: StandInContext, args: string[]) => number> = {
  get_param: getParam,
  set_param: setParam,
  list_nids: listNids,
  ping,
  pcc: lctlPcc,
};

function main(ctx: StandInContext): number {
  const [command, ...args] = ctx.argv;
  if (command === "--version" || command === "version") {
    ctx.out(`lctl ${ctx.state.version}`);
    return 0;
  }
  if (command === undefined || command === "--list-commands" || command === "help") {
    ctx.out(Object.keys(COMMANDS).join("\n"));
    return 0;
  }
  const fn = COMMANDS[command];
  if (!fn) {
    ctx.err(`lctl: '${command}' is not a valid command. See 'lctl --list-commands'.`);
    return 1;
  }
  return fn(ctx, args);
}

if (import.meta.main) await runStandIn("lctl", main);
