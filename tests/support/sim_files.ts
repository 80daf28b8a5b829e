/** The simulated file systems as the server holds them, and the simulator's lfs, for controller tests. */
import type { NodeEnv } from "./node_env.ts";

/** A path in simulated file system `fs`, as the server holds it. */
export function serverPath(env: NodeEnv, fs: string, path = ""): string {
  return `${env.sim.root}/srv/${fs}/backing store/${fs}${path}`;
}

/** The sorted names in directory `path`; none when it does not exist. */
export async function dirNames(path: string): Promise<string[]> {
  const found = [];
  try {
    for await (const entry of Deno.readDir(path)) found.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found.sort();
}

/** Runs the simulator's `lfs`; returns its stdout followed by its stderr. */
export async function lfs(env: NodeEnv, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(`${env.sim.bin}/lfs`, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}
