/**
 * Starts the real driver (`src/main.ts`, or its bundle) as a child process on a temp
 * socket, optionally in a mount namespace of its own that shares the
 * kubelet directory (as the DaemonSet does), and gives a CSI client to it.
 */
import { fileURLToPath } from "node:url";
import { CsiClient } from "../../src/grpc/client.ts";
import { Identity } from "../../src/csi/gen/csi_pb.ts";

export const REPO = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
export const DENO = Deno.execPath();
/**
 * The driver reads /proc/self/mountinfo and calls mount(2) through FFI;
 * Deno grants both only with --allow-all.
 */
export const DRIVER_PERMISSIONS = ["--allow-all"];

/** How to start the driver. */
export interface DriverOptions {
  readonly mode?: "node" | "controller";
  /** Directory for the socket, state dir and logs. */
  readonly dir: string;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** Run in a new mount namespace (propagation unchanged), like a DaemonSet pod. */
  readonly ownNamespace?: boolean;
  /** With ownNamespace: derive that namespace from this one (an nsfs path) instead of ours. */
  readonly parentNamespace?: string;
  /** Wait for the socket to answer GetPluginInfo (default true). */
  readonly waitReady?: boolean;
  /** Deno flags before the entry point (default DRIVER_PERMISSIONS); the bench passes the image's. */
  readonly denoFlags?: readonly string[];
  /** The module deno runs (default `${REPO}/src/main.ts`); the bench runs the bundle's main.js. */
  readonly entry?: string;
}

/** A running driver. */
export class DriverProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stderr: string[] = [];
  readonly #stdout: string[] = [];
  readonly #drained: Promise<void>;
  readonly client: CsiClient;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(child: Deno.ChildProcess, readonly socketPath: string) {
    this.#child = child;
    this.status = child.status;
    this.#drained = Promise.all([
      collect(child.stderr, this.#stderr),
      collect(child.stdout, this.#stdout),
    ]).then(() => undefined);
    this.client = new CsiClient(`unix://${socketPath}`);
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Everything the driver wrote to stderr so far (its JSON log lines). */
  logs(): string {
    return this.#stderr.join("");
  }

  /** Parsed JSON log lines. */
  logLines(): Record<string, unknown>[] {
    return this.logs().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  }

  stdout(): string {
    return this.#stdout.join("");
  }

  /** Sends a signal and waits for the exit status. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    this.client.close();
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
    const status = await this.status;
    await this.#drained;
    return status;
  }

  async [Symbol.asyncDispose]() {
    await this.stop("SIGKILL");
  }
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }));
}

/** Starts the driver and waits until its socket answers. */
export async function startDriver(options: DriverOptions): Promise<DriverProcess> {
  const mode = options.mode ?? "node";
  const socketPath = `${options.dir}/csi.sock`;
  const driverArgs = [
    "run",
    ...(options.denoFlags ?? DRIVER_PERMISSIONS),
    options.entry ?? `${REPO}/src/main.ts`,
    mode,
    "--endpoint",
    `unix://${socketPath}`,
    ...(mode === "node" ? ["--node-id", "test-node"] : []),
    "--state-dir",
    `${options.dir}/state`,
    ...(options.args ?? []),
  ];
  const unshare = ["unshare", "--mount", "--propagation", "unchanged", DENO, ...driverArgs];
  const [program, args] = !options.ownNamespace
    ? [DENO, driverArgs]
    : options.parentNamespace
    ? ["nsenter", [`--mount=${options.parentNamespace}`, `--wd=${REPO}`, ...unshare]]
    : [unshare[0], unshare.slice(1)];
  const driver = spawnDriver(program, args, socketPath, options.env);
  if (options.waitReady !== false) await waitForSocket(driver);
  return driver;
}

/** Spawns a driver's command line (in the repo, output piped) that serves `socketPath`. */
export function spawnDriver(
  program: string,
  args: string[],
  socketPath: string,
  env?: Record<string, string>,
): DriverProcess {
  const child = new Deno.Command(program, {
    args,
    env,
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new DriverProcess(child, socketPath);
}

/** Polls GetPluginInfo until it answers (30 s at most). */
export async function waitForSocket(driver: DriverProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  let exited = false;
  driver.status.then(() => exited = true);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`Driver exited before serving:\n${driver.logs()}`);
    // A fresh client per attempt: a channel that met a stale socket backs off for long.
    const probe = new CsiClient(`unix://${driver.socketPath}`);
    try {
      await probe.call(Identity.method.getPluginInfo, {}, { timeoutMs: 1000 });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      probe.close();
    }
  }
  throw new Error(`Driver did not answer within 30 s:\n${driver.logs()}`);
}

/**
 * A temp directory this test creates; at dispose every mount left below it
 * is detached first, so the recursive delete never reaches through a mount.
 */
export async function tempDir(
  prefix = "klustre-test-",
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await detachMountsBelow(path);
      await Deno.remove(path, { recursive: true }).catch(() => undefined);
    },
  };
}

/** Lazily unmounts every mount at or below `path`, deepest first. */
export async function detachMountsBelow(path: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const points = (await Deno.readTextFile("/proc/self/mountinfo")).split("\n")
      .map((line) => line.split(" ")[4])
      .filter((p) => p && (p === path || p.startsWith(`${path}/`)))
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const point of points) {
      await new Deno.Command("umount", {
        args: ["-l", point],
        stderr: "null",
        signal: AbortSignal.timeout(10_000),
      }).output();
    }
  }
}

/** Writes an executable shell script. */
export async function writeScript(path: string, body: string): Promise<void> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

/** What a finished `klustre-csi` command printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `src/main.ts` with `args` (60 s at most) and collects its output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCommand(DENO, ["run", ...DRIVER_PERMISSIONS, `${REPO}/src/main.ts`, ...args], env);
}

/** Runs `cmd` with `args` (`timeoutMs`, 60 s by default, at most) and collects its output. */
export async function runCommand(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  const output = await new Deno.Command(cmd, {
    args,
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}
