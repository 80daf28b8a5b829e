/** Errors a command run can end with. Handlers map them to gRPC codes. */

/** The command ran past its timeout; its process group was killed. */
export class CommandTimeoutError extends Error {
  override name = "CommandTimeoutError";
  constructor(readonly command: string, readonly timeoutMs: number) {
    super(`"${command}" did not finish within ${timeoutMs} ms and was killed`);
  }
}

/** The command is not on the configured PATH. */
export class CommandNotFoundError extends Error {
  override name = "CommandNotFoundError";
  constructor(readonly command: string, readonly searchPath: string) {
    super(`"${command}" was not found on PATH "${searchPath}"`);
  }
}

/** The command exited non-zero; `detail` is its own first error line. */
export class CommandFailedError extends Error {
  override name = "CommandFailedError";
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`"${command}" exited with ${exitCode}: ${summarize(stderr || stdout)}`);
  }
}

/** Joins the non-empty lines of a tool's output into one line. */
export function summarize(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.length === 0 ? "no output" : lines.join(" ").slice(0, 1000);
}
