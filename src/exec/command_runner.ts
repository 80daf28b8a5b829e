/**
 * Runs external commands with a timeout. Each command gets its own process
 * group; when the timeout passes the whole group is killed and the call
 * returns at once, even if a process is stuck in the kernel.
 */
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError } from "./command_errors.ts";

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
   * "auto": programs under /host run with the host's own dynamic loader and
   * the /host library dirs, so host tools built for a newer glibc than the
   * image's still start; "none" (or absent): plain exec; a path: that loader
   * for every program.
   */
  readonly hostLoader?: string;
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

const decoder = new TextDecoder();

/** The real runner, built on Deno.Command. */
export class SystemRunner implements CommandRunner {
  readonly #options: SystemRunnerOptions;

  constructor(options: SystemRunnerOptions) {
    this.#options = options;
  }

  async run(command: string, args: readonly string[], options: RunOptions) {
    const program = await this.#resolve(command);
    const [file, argv] = await this.#invocation(program, args);
    const started = performance.now();
    const child = new Deno.Command(file, {
      args: argv,
      env: { PATH: this.#options.pathEnv, LD_LIBRARY_PATH: this.#options.ldLibraryPath },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    const output = child.output();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
    });
    const result = await Promise.race([output, timedOut]);
    clearTimeout(timer);
    const durationMs = Math.round(performance.now() - started);
    if (result === "timeout") {
      killGroup(child.pid);
      await this.#reap(output);
      this.#options.onRun?.({ command, args, code: "timeout", durationMs });
      throw new CommandTimeoutError(command, options.timeoutMs);
    }
    const done = {
      code: result.code,
      stdout: decoder.decode(result.stdout),
      stderr: decoder.decode(result.stderr),
      durationMs,
    };
    this.#options.onRun?.({ command, args, code: done.code, durationMs });
    if (done.code !== 0 && options.check !== false) {
      throw new CommandFailedError(command, done.code, done.stdout, done.stderr);
    }
    return done;
  }

  /** The program and argv to exec: the program itself, or the host loader running it. */
  async #invocation(program: string, args: readonly string[]): Promise<[string, string[]]> {
    const setting = this.#options.hostLoader ?? "none";
    if (setting === "none" || (setting === "auto" && !program.startsWith("/host/"))) {
      return [program, [...args]];
    }
    const loader = setting === "auto" ? await this.#hostLoader() : setting;
    if (!loader) return [program, [...args]];
    const dirs = this.#options.ldLibraryPath.split(":").filter((d) => d !== "");
    const libraryPath = (setting === "auto" ? dirs.filter((d) => d.startsWith("/host/")) : dirs)
      .join(":");
    return [loader, ["--library-path", libraryPath, program, ...args]];
  }

  #loader: Promise<string | undefined> | undefined;

  /** The host's dynamic loader under /host, found once. */
  #hostLoader(): Promise<string | undefined> {
    this.#loader ??= (async () => {
      for (const candidate of HOST_LOADERS) {
        if (await isFile(candidate)) return candidate;
      }
      return undefined;
    })();
    return this.#loader;
  }

  async #resolve(command: string): Promise<string> {
    if (command.includes("/")) return command;
    for (const dir of this.#options.pathEnv.split(":")) {
      if (!dir) continue;
      const candidate = `${dir}/${command}`;
      try {
        const info = await Deno.stat(candidate);
        if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
      } catch {
        // not in this directory
      }
    }
    throw new CommandNotFoundError(command, this.#options.pathEnv);
  }

  async #reap(output: Promise<unknown>): Promise<void> {
    const grace = this.#options.reapGraceMs ?? 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      output.catch(() => undefined),
      new Promise((resolve) => timer = setTimeout(resolve, grace)),
    ]);
    clearTimeout(timer);
  }
}

/** Where the host's glibc dynamic loader sits once the host's / is mounted at /host. */
const HOST_LOADERS = [
  "/host/lib64/ld-linux-x86-64.so.2",
  "/host/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
  "/host/lib/ld-linux-aarch64.so.1",
  "/host/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
];

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}
