/** Processes: running util-linux and bindfs, finding and killing daemons. */

/** Result of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output. */
export function run(cmd: string, args: string[]): RunResult {
  const out = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .outputSync();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs a command and throws when it fails.
 * @throws Error with the command's stderr
 */
export function runOrThrow(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** The argv of a process, or null when it is gone. */
export function processArgv(pid: number): string[] | null {
  try {
    const raw = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    return raw.split("\0").filter((s, i, a) => i < a.length - 1 || s !== "");
  } catch {
    return null;
  }
}

/** The command name of a process ("" when gone). */
export function processComm(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}

/** The environment of a process (empty when unreadable). */
export function processEnv(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
  } catch {
    return [];
  }
}

/** PIDs of live processes whose argv satisfies `match`. */
export function findProcesses(match: (argv: string[], pid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const argv = processArgv(pid);
    if (argv && argv.length > 0 && match(argv, pid)) pids.push(pid);
  }
  return pids;
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Sends `signal`, ignoring processes that are already gone. */
export function kill(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // gone already
  }
}

/** Sleeps synchronously (stand-ins are short-lived and single-purpose). */
export function sleepMs(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. */
export function terminate(pids: number[], graceMs = 1000): void {
  for (const pid of pids) kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) sleepMs(20);
  for (const pid of pids.filter(isAlive)) kill(pid, "SIGKILL");
  const killDeadline = Date.now() + 1000;
  while (pids.some(isAlive) && Date.now() < killDeadline) sleepMs(10);
}

/** True when argv is a bindfs daemon whose mount point is `mountPoint`. */
export function isBindfsFor(argv: string[], mountPoint: string): boolean {
  return argv[0].endsWith("bindfs") && argv[argv.length - 1] === mountPoint;
}
