/** Drives scripts/lustre-sim from tests: up, faults, the call log, down. */
import { REPO } from "./driver.ts";

/** One line of DIR/calls.jsonl. */
export interface SimCall {
  cmd: string;
  argv: string[];
  /** null while a hung call is still blocked. */
  exit: number | null;
  ms: number;
}

/** A running simulated cluster. */
export class Sim implements AsyncDisposable {
  constructor(readonly root: string) {}

  /** Directory of the stand-in mount.lustre, lfs and lctl. */
  get bin(): string {
    return `${this.root}/bin`;
  }

  /** PATH for the driver: stand-ins first, then the system. */
  get pathEnv(): string {
    return `${this.bin}:/usr/sbin:/usr/bin:/sbin:/bin`;
  }

  /** Runs `lustre-sim fault KIND ARGS`. */
  async fault(kind: string, ...args: string[]): Promise<void> {
    await lustreSim(["fault", "--root", this.root, kind, ...args]);
  }

  /**
   * Creates a directory inside a simulated file system, as an admin would on
   * the Lustre server side. Returns the relative path, for `subdir`.
   */
  async mkdir(fs: string, relative: string): Promise<string> {
    await Deno.mkdir(`${this.root}/srv/${fs}/backing store/${fs}/${relative}`, { recursive: true });
    return relative;
  }

  /** Every stand-in call so far. */
  async calls(): Promise<SimCall[]> {
    const text = await Deno.readTextFile(`${this.root}/calls.jsonl`).catch(() => "");
    return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
  }

  /** Successful Lustre mounts so far (not version queries). */
  async lustreMounts(): Promise<SimCall[]> {
    return (await this.mountAttempts()).filter((c) => c.exit === 0);
  }

  /** All mount.lustre runs, whatever their outcome. */
  async mountAttempts(): Promise<SimCall[]> {
    return (await this.calls()).filter((c) =>
      c.cmd === "mount.lustre" && !c.argv.includes("-V") && !c.argv.includes("--version")
    );
  }

  /** `down` continues (SIGCONT) frozen daemons first, so nothing stays blocked on them. */
  async [Symbol.asyncDispose]() {
    await lustreSim(["down", "--root", this.root]);
  }
}

/** Starts a simulator under `root`, with an optional cluster description. */
export async function startSim(root: string, state?: Record<string, unknown>): Promise<Sim> {
  const args = ["up", "--root", root];
  if (state) {
    const file = `${root}.state.json`;
    await Deno.writeTextFile(file, JSON.stringify(state));
    args.push("--state", file);
  }
  await lustreSim(args);
  return new Sim(root);
}

async function lustreSim(args: string[]): Promise<string> {
  const output = await new Deno.Command(`${REPO}/scripts/lustre-sim`, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder();
  if (output.code !== 0) {
    throw new Error(`lustre-sim ${args.join(" ")} failed: ${text.decode(output.stderr)}`);
  }
  return text.decode(output.stdout);
}
