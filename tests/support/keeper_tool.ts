/** Runs the simulator's client tools where the driver's Lustre mounts are (its keeper namespace). */
import assert from "node:assert/strict";
import type { NodeEnv } from "./node_env.ts";

/** Runs sim client tool `tool` in the keeper namespace; fails the test unless it exits 0; returns its stdout. */
export async function clientTool(env: NodeEnv, tool: string, ...args: string[]): Promise<string> {
  const output = await new Deno.Command("nsenter", {
    args: [
      `--mount=${env.host!.nsPath}`,
      "nsenter",
      `--mount=${env.stateDir}/keeper/ns`,
      `${env.sim.bin}/${tool}`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(output.code, 0, `${tool} ${args.join(" ")}: ${text.decode(output.stderr)}`);
  return text.decode(output.stdout);
}
