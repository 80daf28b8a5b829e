/**
 * Runs external commands with a timeout. Each command gets its own process
 * group; when the timeout passes the whole group is killed and the call
 * returns at once, even if a process is stuck in the kernel.
 */
import { spawnBounded } from "./spawn_bounded.ts";
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError } from "./command_errors.ts";
import { findHostLoader, type HostLoader, HostLoaderNotFoundError } from "./host_loader.ts";
import { pathUnderRoot, resolveInRoot } from "./resolve_in_root.ts";

/** What a finished command printed and returned. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** Per-call options; the timeout is required. */
export interface RunOptions {
  readonly timeoutMs: number;
  /** Reject a non-zero exit with CommandFailedError (default true). */
  readonly check?: boolean;
}

/** Runs a program found on the configured PATH. */
export interface CommandRunner {
  /**
   * @throws CommandTimeoutError, CommandNotFoundError, CommandFailedError
   */
  run(command: string, args: readonly string[], options: RunOptions): Promise<CommandResult>;
}

/** Where and how the system runner finds and starts programs. */
export interface SystemRunnerOptions {
  readonly pathEnv: string;
  readonly ldLibraryPath: string;
  /**
   * "auto": programs under the host root run with the host's own dynamic
   * loader and libc, found by resolving every path inside the host root
   * (findHostLoader), with the ldLibraryPath dirs under the host root as
   * library path; other programs, or all when no host loader is found, are
   * exec'd plainly. "none" (or absent): plain exec; a path: that loader for
   * every program, with all of ldLibraryPath.
   */
  readonly hostLoader?: string;
  /** Where the host's `/` is mounted (default "/host"). */
  readonly hostRoot?: string;
  /** Architecture whose loader "auto" looks for (default Deno.build.arch). */
  readonly arch?: string;
  /** How long to wait for a killed group to be reaped before giving up on it. */
  readonly reapGraceMs?: number;
  /** Told about every finished, failed or timed-out run. */
  readonly onRun?: (event: RunEvent) => void;
}

/** One command run, for debug logs and metrics. */
export interface RunEvent {
  readonly command: string;
  readonly args: readonly string[];
  readonly code: number | "timeout";
  readonly durationMs: number;
}

/** How a program will be started, as `describe()` tells (doctor prints it). */
export type ToolLaunch =
  | {
    readonly kind: "exec";
    readonly program: string;
    /** Why no loader: hostLoader "none", a program outside the host root, or no host loader found. */
    readonly reason: "none" | "outside-host-root" | "no-host-loader";
    /** For "no-host-loader": what was looked for. */
    readonly problem?: string;
  }
  | {
    readonly kind: "loader";
    readonly program: string;
    readonly loader: string;
    readonly libraryPath: readonly string[];
    /** For "auto": the host root everything was resolved in, and the libc found. */
    readonly hostRoot?: string;
    readonly libc?: string;
  };

/** Tells how a program would be started (SystemRunner does; doctor prints it). */
export interface LaunchDescriber {
  /**
   * @throws CommandNotFoundError
   */
  describe(command: string): Promise<ToolLaunch>;
}

/** The default mount point of the host's `/` in the node plugin's container. */
export const DEFAULT_HOST_ROOT = "/host";

/** The real runner, built on Deno.Command. */
export class SystemRunner implements CommandRunner, LaunchDescriber {
  readonly #options: SystemRunnerOptions;

  constructor(options: SystemRunnerOptions) {
    this.#options = options;
  }

  async run(command: string, args: readonly string[], options: RunOptions) {
    const program = await this.#resolve(command);
    const [file, argv] = await this.#invocation(program, args);
    const done = await spawnBounded(file, argv, {
      env: { PATH: this.#options.pathEnv, LD_LIBRARY_PATH: this.#options.ldLibraryPath },
      timeoutMs: options.timeoutMs,
      reapGraceMs: this.#options.reapGraceMs,
    });
    const durationMs = done.durationMs;
    if ("timeout" in done) {
      this.#options.onRun?.({ command, args, code: "timeout", durationMs });
      throw new CommandTimeoutError(command, options.timeoutMs);
    }
    this.#options.onRun?.({ command, args, code: done.code, durationMs });
    if (done.code !== 0 && options.check !== false) {
      throw new CommandFailedError(command, done.code, done.stdout, done.stderr);
    }
    return done;
  }

  /**
   * How `run(command)` would start the program, without running it.
   * @throws CommandNotFoundError
   */
  async describe(command: string): Promise<ToolLaunch> {
    return this.#launch(await this.#resolve(command));
  }

  /** The program and argv to exec: the program itself, or a loader running it. */
  async #invocation(program: string, args: readonly string[]): Promise<[string, string[]]> {
    const launch = await this.#launch(program);
    if (launch.kind === "exec") return [launch.program, [...args]];
    const libraryPath = launch.libraryPath.join(":");
    return [launch.loader, ["--library-path", libraryPath, launch.program, ...args]];
  }

  async #launch(program: string): Promise<ToolLaunch> {
    const setting = this.#options.hostLoader ?? "none";
    if (setting === "none") return { kind: "exec", program, reason: "none" };
    if (setting !== "auto") {
      const libraryPath = this.#options.ldLibraryPath.split(":").filter((d) => d !== "");
      return { kind: "loader", program, loader: setting, libraryPath };
    }
    const inRoot = pathUnderRoot(this.#hostRoot, program);
    if (inRoot === undefined) return { kind: "exec", program, reason: "outside-host-root" };
    const hostProgram = await resolveInRoot(this.#hostRoot, inRoot);
    let host: HostLoader;
    try {
      host = await this.#hostLoader();
    } catch (error) {
      if (!(error instanceof HostLoaderNotFoundError)) throw error;
      return {
        kind: "exec",
        program: hostProgram,
        reason: "no-host-loader",
        problem: error.message,
      };
    }
    return {
      kind: "loader",
      program: hostProgram,
      loader: host.loader,
      libraryPath: host.libraryPath,
      hostRoot: this.#hostRoot,
      libc: host.libc,
    };
  }

  get #hostRoot(): string {
    return this.#options.hostRoot ?? DEFAULT_HOST_ROOT;
  }

  #loader: Promise<HostLoader> | undefined;

  /** The host's loader, libc and library dirs, all inside the host root; found once. */
  #hostLoader(): Promise<HostLoader> {
    const root = this.#hostRoot;
    this.#loader ??= findHostLoader({
      hostRoot: root,
      arch: this.#options.arch ?? Deno.build.arch,
      libraryDirs: this.#options.ldLibraryPath.split(":").flatMap((dir) => {
        const inRoot = pathUnderRoot(root, dir);
        return inRoot ? [inRoot] : [];
      }),
    }).catch((error) => {
      this.#loader = undefined;
      throw error;
    });
    return this.#loader;
  }

  async #resolve(command: string): Promise<string> {
    if (command.includes("/")) return command;
    for (const dir of this.#options.pathEnv.split(":")) {
      if (!dir) continue;
      const candidate = `${dir}/${command}`;
      try {
        const info = await Deno.stat(await this.#inHostRoot(candidate));
        if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
      } catch {
        // not in this directory
      }
    }
    throw new CommandNotFoundError(command, this.#options.pathEnv);
  }

  /** With "auto", a path under the host root resolved inside it (symlinks stay on the host). */
  #inHostRoot(path: string): Promise<string> | string {
    if (this.#options.hostLoader !== "auto") return path;
    const inRoot = pathUnderRoot(this.#hostRoot, path);
    return inRoot === undefined ? path : resolveInRoot(this.#hostRoot, inRoot);
  }
}
