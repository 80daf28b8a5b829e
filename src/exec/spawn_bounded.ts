/**
 * Runs one program in its own process group with a time limit: at the limit
 * the whole group is killed and the run answers "timeout". Both the runner
 * and the keeper namespace's worker thread start their programs here.
 */

/** What a finished run printed and returned. */
export interface BoundedResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

/** How to start the program. */
export interface SpawnOptions {
  readonly env: Record<string, string>;
  /** Start from an empty environment instead of this process's. */
  readonly clearEnv?: boolean;
  readonly timeoutMs: number;
  /** How long to wait for the killed group's pipes to close (default 2000 ms). */
  readonly reapGraceMs?: number;
}

const decoder = new TextDecoder();

/** Process groups started here and not finished yet (this thread's only). */
const running = new Set<number>();

/**
 * Kills every process group still running from this thread: called at exit, so a tool that
 * outlives the driver (a hung `lctl`) is not left behind as an orphan.
 */
export function killRunningGroups(): void {
  for (const pid of running) killGroup(pid);
}

/**
 * Spawns `file` with `args`; "timeout" once `timeoutMs` passed (the group
 * was killed).
 */
export async function spawnBounded(
  file: string,
  args: readonly string[],
  options: SpawnOptions,
): Promise<BoundedResult | { readonly timeout: true; readonly durationMs: number }> {
  const started = performance.now();
  const child = new Deno.Command(file, {
    args: [...args],
    env: options.env,
    clearEnv: options.clearEnv ?? false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  running.add(child.pid);
  const output = child.output();
  output.then(() => running.delete(child.pid), () => running.delete(child.pid));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
  });
  const result = await Promise.race([output, timedOut]);
  clearTimeout(timer);
  const durationMs = Math.round(performance.now() - started);
  if (result === "timeout") {
    killGroup(child.pid);
    running.delete(child.pid);
    await reap(output, options.reapGraceMs ?? 2000);
    return { timeout: true, durationMs };
  }
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
    durationMs,
  };
}

function killGroup(pid: number): void {
  try {
    Deno.kill(-pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** Waits a little for the killed group's pipes to close, never forever. */
async function reap(output: Promise<unknown>, graceMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    output.catch(() => undefined),
    new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
  ]);
  clearTimeout(timer);
}
