/**
 * Doctor check of how the host's Lustre tools start: with which dynamic
 * loader and libc (the host's, found inside the host root, or the image's).
 */
import type { ToolLaunch } from "../exec/command_runner.ts";
import { CommandNotFoundError } from "../exec/command_errors.ts";
import { type CheckResult, fail, pass, skip } from "./check_result.ts";

const NAME = "host loader";

/** What to do when hostLoader "auto" finds no loader inside the host root. */
const NO_LOADER_FIX = "mount the host's /lib, /lib64, /usr/lib and /usr/lib64 read-only under " +
  "/host (as the DaemonSet does) so its glibc loader and libc are found there; or set " +
  "hostLoader (--host-loader) to the loader's path, or to none to run the tools with the " +
  "image's loader and libc (only tools built for glibc 2.36 or older start that way)";

/**
 * Tells how `tool` will be started: PASS naming loader and libc, FAIL when
 * auto finds no loader, SKIP when the tool is not found.
 */
export async function checkToolLoader(
  tool: string,
  describe: (command: string) => Promise<ToolLaunch>,
): Promise<CheckResult> {
  let launch: ToolLaunch;
  try {
    launch = await describe(tool);
  } catch (error) {
    // A missing tool is reported as missing by its own check.
    if (error instanceof CommandNotFoundError) return skip(NAME, tool, error.message);
    return fail(NAME, `cannot tell: ${(error as Error).message}`, `fix "tool ${tool}" first`);
  }
  if (launch.kind === "loader") {
    const where = launch.hostRoot === undefined
      ? "(setting hostLoader)"
      : `(resolved inside ${launch.hostRoot}), libc ${launch.libc}`;
    return pass(NAME, `${launch.loader} ${where}, library path ${launch.libraryPath.join(":")}`);
  }
  switch (launch.reason) {
    case "none":
      return pass(
        NAME,
        `none (setting hostLoader): ${launch.program} runs with the image's loader and the ` +
          "first libc on ldLibraryPath",
      );
    case "outside-host-root":
      return pass(
        NAME,
        `not used: ${launch.program} lies outside the host root and is started as it is`,
      );
    case "no-host-loader":
      return fail(
        NAME,
        `${launch.problem}; ${launch.program} would run with the image's loader`,
        NO_LOADER_FIX,
      );
  }
}
