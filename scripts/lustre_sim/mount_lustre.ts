/**
 * Stand-in for /sbin/mount.lustre (2.15 client): parses the source and options, fails like
 * the real helper, and on success bind-mounts the file system's FUSE export at the target.
 */
import { runStandIn, type StandInContext } from "./stand_in.ts";
import { parseLustreSource, SourceSyntaxError } from "./source.ts";
import { parseMountOptions } from "./options.ts";
import { readMountInfo } from "./mountinfo.ts";
import { run, sleepMs } from "./proc.ts";
import { collectExports, liveExport, startExport } from "./exports.ts";
import { newInstance, pruneRecords } from "./client_mounts.ts";
import { simPaths, type SimState, updateState } from "./state.ts";
import { defaultParams } from "./params.ts";
import { attachFromServer, inServer, inServerAlready } from "./server_ns.ts";

const USAGE = `
This mount helper should only be invoked via the mount (8) command,
e.g. mount -t lustre dev dir

usage: mount.lustre [-fhnvV] [-o <mntopt>] <device> <mountpt>
	<device>: the disk device, or for a client:
		<mgsnid>[:<altmgsnid>...]:/<filesystem>[/<subdir>]
	<filesystem>: name of the Lustre filesystem (e.g. lustre1)
	<mountpt>: filesystem mountpoint (e.g. /mnt/lustre)
	-f|--fake: fake mount (updates /etc/mtab)
	-o force|--force: force mount even if already in /etc/mtab
	-h|--help: print this usage message
	-n|--nomtab: do not update /etc/mtab after mount
	-v|--verbose: print verbose config settings
	-V|--version: output build version of the utility and exit
	<mntopt>: one or more comma separated of:
		(no)flock,(no)user_xattr,(no)acl
		retry=<num>: number of times mount is retried by client`;

const STRERROR: Record<number, string> = {
  2: "No such file or directory",
  5: "Input/output error",
  19: "No such device",
  20: "Not a directory",
  22: "Invalid argument",
};

interface Args {
  source: string;
  target: string;
  options: string;
  fake: boolean;
  verbose: boolean;
  force: boolean;
}

/** Parses argv like getopt_long("fhno:vsV"), permuting positionals. Returns an exit code on -V/-h/error. */
function parseArgs(ctx: StandInContext): Args | number {
  const positionals: string[] = [];
  const args: Args = {
    source: "",
    target: "",
    options: "",
    fake: false,
    verbose: false,
    force: false,
  };
  const usage = (code: number) => {
    (code === 0 ? ctx.out : ctx.err)(USAGE);
    return code;
  };
  const argv = ctx.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === "--version") return version(ctx);
    if (a === "--help") return usage(0);
    if (a === "--fake") args.fake = true;
    else if (a === "--force") args.force = true;
    else if (a === "--nomtab") ctx.out("nomtab: 1");
    else if (a === "--verbose") args.verbose = true;
    else if (a === "--options" || a.startsWith("--options=")) {
      args.options = a === "--options" ? argv[++i] ?? "" : a.slice(10);
    } else if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        if (c === "o") {
          args.options = j + 1 < a.length ? a.slice(j + 1) : argv[++i] ?? "";
          break;
        }
        if (c === "V") return version(ctx);
        if (c === "h") return usage(0);
        if (c === "f") {
          args.fake = true;
          ctx.out("fake: 1");
        } else if (c === "n") ctx.out("nomtab: 1");
        else if (c === "v") args.verbose = true;
        else if (c === "s") continue;
        else {
          ctx.err(`mount.lustre: unknown option '${c}'`);
          return usage(22);
        }
      }
    } else positionals.push(a);
  }
  if (positionals.length < 2) {
    ctx.err("mount.lustre: too few arguments");
    return usage(22);
  }
  [args.source, args.target] = positionals;
  return args;
}

function version(ctx: StandInContext): number {
  ctx.out(`mount.lustre ${ctx.state.version} (libmount)`);
  return 0;
}

function fail(ctx: StandInContext, args: Args, errno: number, extra: string[] = []): number {
  ctx.err(`mount.lustre: mount ${args.source} at ${args.target} failed: ${STRERROR[errno]}`);
  for (const line of extra) ctx.err(line);
  return errno;
}

/** Is any NID of the source a simulated MGS NID that is up? */
function mgsReachable(state: SimState, nodes: string[][]): boolean {
  const known = new Set(state.mgsNodes.flat());
  const down = state.faults.mgsDown;
  return nodes.flat().some((nid) =>
    known.has(nid) && !(down && (down.nids === null || down.nids.includes(nid)))
  );
}

function main(ctx: StandInContext): number {
  const parsed = parseArgs(ctx);
  if (typeof parsed === "number") return parsed;
  const args = parsed;
  const state = ctx.state;

  let source;
  try {
    source = parseLustreSource(args.source, state.hosts);
  } catch (e) {
    if (!(e instanceof SourceSyntaxError)) throw e;
    ctx.err(`mount.lustre: ${e.message}`);
    ctx.err(USAGE);
    return 22;
  }
  let target: string;
  try {
    target = Deno.realPathSync(args.target);
  } catch {
    ctx.err(`warning: ${args.target}: cannot resolve: No such file or directory`);
    return 2;
  }
  const opts = parseMountOptions(args.options, state.version);
  const force = args.force || opts.force;
  if (args.verbose) {
    ["/sbin/mount.lustre", ...ctx.argv].forEach((a, i) => ctx.out(`arg[${i}] = ${a}`));
    ctx.out(`source = ${args.source} (${source.canonical}), target = ${target}`);
    ctx.out(`options = ${args.options}`);
  }

  // Client mounts show the fs root as `/<fsname>` (see simPaths().backing).
  const root = `/${source.fsname}/${source.subdir}`.replace(/\/$/, "");
  const existing = readMountInfo().filter((m) =>
    m.mountPoint === target && m.fsType === "fuse.lustre" &&
    m.source.endsWith(`:/${source.fsname}`) && m.root === root
  );
  if (opts.remount) {
    if (existing.length === 0) {
      ctx.err(
        `mount.lustre: according to /etc/mtab ${args.source} is not already mounted on ${target}`,
      );
      return 2;
    }
    const r = run("mount", ["-o", `remount,bind,${opts.mountFlags.join(",")}`, target]);
    return r.code === 0 ? 0 : fail(ctx, args, 22);
  }
  if (existing.length > 0 && !force) {
    ctx.err(`mount.lustre: according to /etc/mtab ${args.source} is already mounted on ${target}`);
    return 17;
  }

  if (!state.modulesLoaded) {
    return fail(ctx, args, 19, [
      "Are the lustre modules loaded?",
      " Check /etc/modprobe.conf and /proc/filesystems",
    ]);
  }
  if (!mgsReachable(state, source.mgsNodes)) {
    sleepMs(state.faults.mgsDown?.delayMs ?? 0);
    return fail(ctx, args, 5, ["Is the MGS running?"]);
  }
  const enoent = [
    "Is the MGS specification correct?",
    "Is the filesystem name correct?",
    "If upgrading, is the copied client log valid? (see upgrade docs)",
  ];
  if (!state.fileSystems.some((f) => f.name === source.fsname)) {
    return fail(ctx, args, 2, enoent);
  }
  if (opts.unknown.length > 0) {
    return fail(ctx, args, 22, [
      "This may have multiple causes.",
      `Is '${args.source.slice(args.source.lastIndexOf(":") + 2)}' the correct filesystem name?`,
      "Are the mount options correct?",
      "Check the syslog for more info.",
    ]);
  }
  const dataDir = simPaths(ctx.root).backing(source.fsname) +
    (source.subdir ? `/${source.subdir}` : "");
  try {
    if (!Deno.statSync(dataDir).isDirectory) return fail(ctx, args, 20);
  } catch {
    return fail(ctx, args, 2, enoent);
  }
  try {
    if (!Deno.statSync(target).isDirectory) return fail(ctx, args, 20);
  } catch {
    return fail(ctx, args, 2);
  }
  if (args.fake) return 0;

  return updateState(ctx.root, (s) => {
    pruneRecords(s);
    // Exports are served in the namespace where `up` ran, whoever mounts (server_ns.ts).
    const callerEntries = readMountInfo();
    const exp = inServer(s, () => {
      collectExports(s, callerEntries);
      return opts.uniqueFsid
        ? startExport(
          s,
          source.fsname,
          simPaths(ctx.root).unique(source.fsname, s.runtime.nextUnique++),
          "unique",
        )
        : liveExport(s, source.fsname);
    });
    // The file system's root is the directory named after it inside the export.
    const from = `${exp.path}/${source.fsname}` + (source.subdir ? `/${source.subdir}` : "");
    if (inServerAlready(s)) {
      const r = run("mount", ["--bind", from, target]);
      if (r.code !== 0) {
        ctx.err(r.stderr.trim());
        return fail(ctx, args, 22);
      }
    } else {
      try {
        attachFromServer(s, from, target);
      } catch (e) {
        ctx.err(`mount.lustre: ${(e as Error).message}`);
        return fail(ctx, args, 22);
      }
    }
    const flags = opts.mountFlags.join(",");
    if (flags !== "rw,strictatime") run("mount", ["-o", `remount,bind,${flags}`, target]);
    const entry = readMountInfo().findLast((m) => m.mountPoint === target);
    const instance = newInstance();
    s.runtime.mounts.push({
      mountId: entry?.id ?? 0,
      target,
      fs: source.fsname,
      subdir: source.subdir,
      instance,
      dev: exp.dev,
      options: opts.all,
      params: defaultParams(s, source.fsname, instance),
      pcc: [],
      startMs: Date.now(),
    });
    return 0;
  });
}

if (import.meta.main) await runStandIn("mount.lustre", main);
