/** Stand-in for `lfs` (2.15): project, quota, setquota, df, getname, striping, mkdir, pool_list. */
import { runStandIn, type StandInContext } from "./stand_in.ts";
import { lfsProject } from "./lfs_project.ts";
import { lfsQuota, lfsSetquota } from "./lfs_quota.ts";
import { lfsDf, lfsGetname } from "./lfs_df.ts";
import { lfsGetdirstripe, lfsGetstripe, lfsMkdir, lfsSetstripe } from "./lfs_layout.ts";
import { usage } from "./lfs_help.ts";
import { lfsPoolList } from "./lfs_pool.ts";
import { lfsPcc } from "./lfs_pcc.ts";

/** A subcommand gets the context and its own arguments; returns the exit status. */
export type LfsCommand = (ctx: StandInContext, args: string[]) => number;

const COMMANDS: Record<string, LfsCommand> = {
  project: lfsProject,
  quota: lfsQuota,
  setquota: lfsSetquota,
  df: lfsDf,
  getname: lfsGetname,
  setstripe: lfsSetstripe,
  getstripe: lfsGetstripe,
  mkdir: lfsMkdir,
  setdirstripe: lfsMkdir,
  getdirstripe: lfsGetdirstripe,
  pool_list: lfsPoolList,
  pcc: lfsPcc,
};

function main(ctx: StandInContext): number {
  const [command, ...args] = ctx.argv;
  if (command === "--version" || command === "version" || command === "-v") {
    ctx.out(`lfs ${ctx.state.version}`);
    return 0;
  }
  if (command === undefined || command === "help" || command === "--list-commands") {
    ctx.out(Object.keys(COMMANDS).join("\n"));
    return 0;
  }
  const fn = COMMANDS[command];
  if (!fn) {
    ctx.err(`lfs: '${command}' is not a valid command. See 'lfs --list-commands'.`);
    return 1;
  }
  if (args.includes("--help")) return usage(ctx, command === "setdirstripe" ? "mkdir" : command);
  return fn(ctx, args);
}

if (import.meta.main) await runStandIn("lfs", main);
