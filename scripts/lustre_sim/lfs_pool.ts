/**
 * `lfs pool_list {FSNAME[.POOL]|PATH}`: the pools of a file system, as
 * liblustreapi's llapi_poollist prints them ("Pools from fs1:" then one
 * `fs1.NAME` a line), or the OSTs of one pool ("Pool: fs1.NAME" then one
 * `fs1-OST0000_UUID` a line). Pools come from the cluster description.
 */
import type { StandInContext } from "./stand_in.ts";
import { usage } from "./lfs_help.ts";
import { describeError, locate } from "./client_mounts.ts";

/** `lfs pool_list` of the simulator. */
export function lfsPoolList(ctx: StandInContext, args: string[]): number {
  if (args.length !== 1) return usage(ctx, "pool_list");
  const target = args[0];
  let fsName: string;
  let pool: string | undefined;
  if (target.startsWith("/")) {
    try {
      fsName = locate(ctx.state, target).fs;
    } catch (e) {
      const [errno, text] = describeError(e);
      ctx.err(`lfs pool_list: cannot open '${target}': ${text} (${errno})`);
      return errno;
    }
  } else {
    const dot = target.indexOf(".");
    [fsName, pool] = dot < 0 ? [target, undefined] : [target.slice(0, dot), target.slice(dot + 1)];
  }
  const fs = ctx.state.fileSystems.find((f) => f.name === fsName);
  if (!fs) {
    ctx.err(`lfs pool_list: cannot open pools of '${fsName}': No such file or directory (2)`);
    return 2;
  }
  if (pool === undefined) {
    ctx.out(`Pools from ${fsName}:`);
    for (const name of Object.keys(fs.pools).sort()) ctx.out(`${fsName}.${name}`);
    return 0;
  }
  const osts = fs.pools[pool];
  if (!osts) {
    ctx.err(
      `lfs pool_list: pool '${fsName}.${pool}' does not exist: No such file or directory (2)`,
    );
    return 2;
  }
  ctx.out(`Pool: ${fsName}.${pool}`);
  for (const i of osts) ctx.out(`${fsName}-OST${i.toString(16).padStart(4, "0")}_UUID`);
  return 0;
}
