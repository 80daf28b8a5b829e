/** lfs help texts and the usage-error exit (CMD_HELP = 4). */
import type { StandInContext } from "./stand_in.ts";

/** `CMD_HELP`: usage errors exit 4 with the help text on stdout. */
export const CMD_HELP = 4;

/** Help texts printed on usage errors. */
export const LFS_HELP: Record<string, string> = {
  project: `project: Change or list project attribute for specified file or directory.
usage: project [-d|-r] <file|directory...>
         list project ID and flags on file(s) or directories
       project [-p id] [-s] [-r] <file|directory...>
         set project ID and/or inherit flag for specified file(s) or directories
       project -c [-d|-r [-p id] [-0]] <file|directory...>
         check project ID and flags on file(s) or directories, print outliers
       project -C [-d|-r] [-k] <file|directory...>
         clear the project inherit flag and ID on the file or directory`,
  setquota: `setquota: Set filesystem quotas.
usage: setquota {-u|-U|-g|-G|-p|-P} {-b|-B|-i|-I LIMIT} <filesystem>`,
  quota: `quota: Display disk usage and limits.
usage: quota [-q] [-v] [-h] [-u|-g|-p <uname>|uid|gname|gid|projid] <filesystem>`,
  df:
    `df: report filesystem disk space usage or inodes usage of each MDS and all OSDs or a batch belonging to a specific pool.
Usage: df [--inodes|-i] [--human-readable|-h] [--lazy|-l] [--pool|-p <fsname>[.<pool>]] [path]`,
  getname: `getname: list instances and specified mount points [for specified path only]
Usage: getname [--help|-h] [--instance|-i] [--fsname|-n] [path ...]`,
  setstripe: `setstripe: To create a file with specified striping/composite layout, or
create/replace the default layout on an existing directory.
usage: setstripe [--stripe-count|-c <stripe_count>] [--stripe-index|-i <start_ost_idx>]
                 [--stripe-size|-S <stripe_size>] [--pool|-p <pool_name>] <directory|filename>
       setstripe -d <directory>   (to delete default layout)`,
  getstripe: `getstripe: To list the layout pattern for a given file or files in a
directory or recursively for all files in a directory tree.
usage: getstripe [--stripe-count|-c] [--stripe-index|-i] [--stripe-size|-S] [--pool|-p]
                 [--directory|-d] <directory|filename> ...`,
  mkdir: `mkdir: To create a new directory with a specified striping.
usage: mkdir [--mdt-count|-c stripe_count] [--mdt-index|-i mdt_index] [--mdt-hash|-H hash] <dir>`,
  pool_list: `pool_list: List pools or pool OSTs.
usage: pool_list <fsname>[.<pool>] | <pathname>`,
  getdirstripe: `getdirstripe: To list the layout pattern info for a given directory.
usage: getdirstripe [--mdt-count|-c] [--mdt-index|-m|-i] [--mdt-hash|-H] <dir>`,
};

/** Prints a subcommand's help and returns CMD_HELP. */
export function usage(ctx: StandInContext, command: string, message?: string): number {
  if (message) ctx.err(`lfs ${command}: ${message}`);
  ctx.out(LFS_HELP[command] ?? "");
  return CMD_HELP;
}
