/**
 * Common frame of the stand-ins (`mount.lustre`, `lfs`, `lctl`): finds the simulator root,
 * applies the hang and slow faults, logs the call to `DIR/calls.jsonl` and exits.
 */
import { readState, simPaths, type SimState } from "./state.ts";
import { sleepMs } from "./proc.ts";

/** What a stand-in sees: its argv, the root, and the state read at start. */
export interface StandInContext {
  cmd: string;
  argv: string[];
  root: string;
  state: SimState;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A stand-in body returns its exit status. */
export type StandInMain = (ctx: StandInContext) => number | Promise<number>;

/** Appends one JSON line to calls.jsonl with a single O_APPEND write. */
export function logCall(root: string, entry: Record<string, unknown>): void {
  const data = new TextEncoder().encode(JSON.stringify(entry) + "\n");
  const file = Deno.openSync(simPaths(root).calls, { create: true, append: true });
  try {
    file.writeSync(data);
  } finally {
    file.close();
  }
}

function writeAll(w: { writeSync(p: Uint8Array): number }, text: string): void {
  let data = new TextEncoder().encode(text);
  while (data.length > 0) data = data.subarray(w.writeSync(data));
}

/** Blocks forever (until killed); a timer keeps the event loop alive. */
function blockForever(): Promise<never> {
  return new Promise(() => setInterval(() => {}, 1 << 30));
}

/** Runs a stand-in: never returns, exits the process with the body's status. */
export async function runStandIn(cmd: string, main: StandInMain): Promise<never> {
  const start = performance.now();
  const argv = [...Deno.args];
  const root = Deno.env.get("LUSTRE_SIM_ROOT");
  if (!root) {
    console.error(`${cmd}: LUSTRE_SIM_ROOT is not set (run the copy in DIR/bin)`);
    Deno.exit(1);
  }
  const state = readState(root);
  if (!state) {
    console.error(`${cmd}: no simulator is up at "${root}"`);
    Deno.exit(1);
  }
  const elapsed = () => Math.round(performance.now() - start);
  if (state.faults.hang.includes(cmd)) {
    logCall(root, { cmd, argv, exit: null, ms: elapsed(), hang: true });
    return await blockForever();
  }
  if (state.faults.slow?.cmds.includes(cmd)) sleepMs(state.faults.slow.delayMs);
  const stdout: string[] = [];
  const stderr: string[] = [];
  let code: number;
  try {
    code = await main({
      cmd,
      argv,
      root,
      state,
      out: (line) => stdout.push(line),
      err: (line) => stderr.push(line),
    });
  } catch (e) {
    stderr.push(`${cmd}: simulator error: ${e instanceof Error ? e.message : String(e)}`);
    code = 1;
  }
  if (stdout.length) writeAll(Deno.stdout, stdout.join("\n") + "\n");
  if (stderr.length) writeAll(Deno.stderr, stderr.join("\n") + "\n");
  logCall(root, { cmd, argv, exit: code, ms: elapsed() });
  Deno.exit(code);
}
