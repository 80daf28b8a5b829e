/**
 * Doctor check of the client tunables (`lustreParams`) the node plugin
 * applied to its shared mounts: each one is read back with `lctl get_param`
 * on that mount's own client instance.
 */
import type { CommandRunner } from "../exec/command_runner.ts";
import { type ClientParam, paramPath, parseClientParams } from "../lustre/client_params.ts";
import { type CheckResult, fail, pass } from "./check_result.ts";

/** One shared mount's applied tunables (node/client_tuning.ts writes them). */
export interface AppliedTuning {
  readonly mount: string;
  readonly fs: string;
  readonly instance: string;
  readonly params: readonly string[];
}

/** Reads every applied tunable back; fails naming those whose value differs or cannot be read. */
export async function checkTunings(
  tunings: readonly AppliedTuning[],
  deps: { readonly runner: CommandRunner; readonly timeoutMs: number },
): Promise<CheckResult> {
  const name = "client tunables";
  if (tunings.length === 0) return pass(name, "no shared mount has client tunables (lustreParams)");
  const seen: string[] = [];
  const wrong: string[] = [];
  for (const tuning of tunings) {
    const params = parseClientParams(tuning.params.join(","));
    const values = await readValues(tuning, params, deps);
    if (values.size === 0) {
      // The instance is gone (its mount was released while the driver was down): a stale note.
      seen.push(`${tuning.mount} (${tuning.fs}-${tuning.instance}): gone`);
      continue;
    }
    const shown = params.map((p) => {
      const got = values.get(p) ?? [];
      const ok = got.length > 0 && got.every((v) => v === String(p.value));
      if (!ok) {
        wrong.push(
          `${paramPath({ fsName: tuning.fs, instance: tuning.instance }, p)} is ${
            got.length === 0 ? "not readable" : [...new Set(got)].join("/")
          }, wanted ${p.value}`,
        );
      }
      return `${p.family}.${p.name}=${got.length > 0 ? [...new Set(got)].join("/") : "?"}`;
    });
    seen.push(`${tuning.mount} (${tuning.fs}-${tuning.instance}): ${shown.join(" ")}`);
  }
  if (wrong.length === 0) return pass(name, seen.join("; "));
  return fail(
    name,
    wrong.join("; "),
    "a tunable was changed behind the driver's back (lctl set_param, an admin's script) or the " +
      "instance is gone: set it again, or unstage and stage the volumes of that shared mount",
  );
}

/** Values per tunable (one per OSC for osc tunables). */
async function readValues(
  tuning: AppliedTuning,
  params: readonly ClientParam[],
  deps: { readonly runner: CommandRunner; readonly timeoutMs: number },
): Promise<Map<ClientParam, string[]>> {
  const values = new Map<ClientParam, string[]>();
  const result = await deps.runner.run(
    "lctl",
    [
      "get_param",
      ...params.map((p) => paramPath({ fsName: tuning.fs, instance: tuning.instance }, p)),
    ],
    { timeoutMs: deps.timeoutMs, check: false },
  );
  for (const line of result.stdout.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const param = params.find((p) => key.endsWith(`.${p.name}`) && key.startsWith(`${p.family}.`));
    if (param) values.set(param, [...(values.get(param) ?? []), line.slice(eq + 1).trim()]);
  }
  return values;
}
