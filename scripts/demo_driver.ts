/**
 * What the demos (scripts/demo.ts, scripts/demo_encryption.ts) share: host
 * commands bounded by a timeout, and the real driver in a mount namespace of
 * its own, like the DaemonSet's container.
 */
import { fileURLToPath } from "node:url";
import { CsiClient } from "../src/grpc/client.ts";
import { Identity } from "../src/csi/gen/csi_pb.ts";

/** The repository the demos run from. */
export const REPO = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** What a host command printed and returned. */
export interface ShResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a host command (60 s at most).
 * @throws Error with its stderr when it fails, unless `check` is false
 */
export async function sh(command: string, args: string[], check = true): Promise<ShResult> {
  const out = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder();
  const result = {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
  if (check && out.code !== 0) {
    throw new Error(`${command} ${args.join(" ")}: ${result.stderr.trim()}`);
  }
  return result;
}

/** How a demo driver is started. */
export interface DemoDriverOptions {
  /** `klustre-csi` arguments after `src/main.ts`, without `--endpoint`. */
  readonly args: readonly string[];
  readonly socket: string;
  /** Where its log (stderr) goes. */
  readonly log: Deno.FsFile;
  /** Mounts to detach in its new namespace before it starts (another "node"'s kubelet dir). */
  readonly hide?: readonly string[];
}

/** The driver process, in a mount namespace of its own. */
export class DemoDriver {
  readonly client: CsiClient;
  readonly #child: Deno.ChildProcess;
  readonly #logged: Promise<void>;

  constructor(options: DemoDriverOptions) {
    const hide = options.hide ?? [];
    // sh (when it detaches mounts first) and unshare exec the next program: the pid is deno's.
    const detach = hide.length === 0
      ? []
      : ["sh", "-c", [...hide.map((path) => `umount -l '${path}'`), 'exec "$@"'].join("\n"), "sh"];
    this.#child = new Deno.Command("unshare", {
      args: [
        ...["--mount", "--propagation", "unchanged", ...detach],
        ...[Deno.execPath(), "run", "--allow-all", `${REPO}/src/main.ts`, ...options.args],
        ...["--endpoint", `unix://${options.socket}`],
      ],
      cwd: REPO,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#logged = this.#child.stderr.pipeTo(options.log.writable).catch(() => undefined);
    this.client = new CsiClient(`unix://${options.socket}`);
  }

  /** The driver's own pid. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Waits until GetPluginInfo answers; throws if the driver exits first. */
  async waitReady(timeoutMs: number): Promise<void> {
    let exited: Deno.CommandStatus | undefined;
    this.#child.status.then((s) => exited = s);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`the driver exited with ${exited.code} before serving`);
      try {
        await this.client.call(Identity.method.getPluginInfo, {}, { timeoutMs: 1000 });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`the driver did not answer within ${timeoutMs} ms`);
  }

  /** SIGTERM, then SIGKILL after 10 s; returns the exit code. */
  async stop(): Promise<number> {
    this.client.close();
    const kill = (signal: Deno.Signal) => {
      try {
        this.#child.kill(signal);
      } catch {
        // already gone
      }
    };
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), 10_000);
    const status = await this.#child.status;
    clearTimeout(timer);
    await this.#logged;
    return status.code;
  }
}
