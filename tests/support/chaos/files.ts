/**
 * File access through pods' targets, each batch in a child process killed
 * after a bound: a target on a hung file system must fail the check, not
 * block the campaign in a kernel call.
 */
import { runCommand } from "../driver.ts";

/** Bound on one batch of file accesses. */
const FILE_TIMEOUT_S = 15;

/** Reads one-line files; per path its content or an error text. */
export async function readFiles(
  paths: readonly string[],
): Promise<Array<{ text?: string; error?: string }>> {
  if (paths.length === 0) return [];
  const script =
    'for f do if c=$(cat -- "$f" 2>&1); then echo "ok $c"; else echo "err $c"; fi; done';
  const { code, stdout } = await run(["sh", "-c", script, "sh", ...paths]);
  const lines = stdout.split("\n").filter((l) => l !== "");
  return paths.map((_, i) => {
    const line = lines[i];
    if (line === undefined) return { error: `no answer within ${FILE_TIMEOUT_S} s (exit ${code})` };
    return line.startsWith("ok ") ? { text: line.slice(3) } : { error: line.slice(4) };
  });
}

/** Writes a one-line file; undefined when done, else the error text. */
export async function writeFile(path: string, text: string): Promise<string | undefined> {
  const { code, stderr } = await run(["sh", "-c", 'printf %s "$1" > "$2"', "sh", text, path]);
  return code === 0 ? undefined : `exit ${code}: ${stderr.trim() || "timed out"}`;
}

function run(args: string[]) {
  return runCommand(
    "timeout",
    ["-s", "KILL", `${FILE_TIMEOUT_S}`, ...args],
    {},
    (FILE_TIMEOUT_S + 5) * 1000,
  );
}
