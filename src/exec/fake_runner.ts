/** A CommandRunner answering from a script of canned results, for unit tests. */
import type { CommandResult, CommandRunner, RunOptions } from "./command_runner.ts";
import { CommandFailedError } from "./command_errors.ts";

/** One recorded call. */
export interface FakeCall {
  command: string;
  args: readonly string[];
  timeoutMs: number;
}

/** Decides the outcome of a call: a result, or an error to throw. */
export type FakeResponder = (
  command: string,
  args: readonly string[],
) => Partial<CommandResult> | Error | Promise<Partial<CommandResult> | Error>;

/** Records calls and answers through `respond` (default: exit 0, no output). */
export class FakeRunner implements CommandRunner {
  readonly calls: FakeCall[] = [];
  constructor(public respond: FakeResponder = () => ({})) {}

  async run(command: string, args: readonly string[], options: RunOptions) {
    this.calls.push({ command, args, timeoutMs: options.timeoutMs });
    const answer = await this.respond(command, args);
    if (answer instanceof Error) throw answer;
    const result: CommandResult = {
      code: answer.code ?? 0,
      stdout: answer.stdout ?? "",
      stderr: answer.stderr ?? "",
      durationMs: answer.durationMs ?? 0,
    };
    if (result.code !== 0 && options.check !== false) {
      throw new CommandFailedError(command, result.code, result.stdout, result.stderr);
    }
    return result;
  }
}
