/**
 * A whole campaign as the suite and `deno task chaos` run it: one run, and
 * when it fails, shrinking and a report naming the seed, the broken
 * invariant and the shortest failing sequence with the command replaying it.
 */
import { type ChaosOptions, type ChaosResult, runChaos } from "./runner.ts";
import { shrink } from "./shrink.ts";
import type { Op } from "./model.ts";

/** A campaign's outcome. */
export interface CampaignReport {
  readonly result: ChaosResult;
  /** When the run failed: the shortest failing sequence found. */
  readonly shrunk?: Op[];
  /** Human-readable summary (failure, reproduction). */
  readonly text: string;
}

/** Runs a campaign; on failure shrinks it within `shrinkBudgetMs`. */
export async function runCampaign(
  options: ChaosOptions & { shrinkBudgetMs: number },
): Promise<CampaignReport> {
  const result = await runChaos(options);
  const what = options.sequence
    ? `replayed sequence of ${options.sequence.length} steps`
    : `seed ${options.seed}, ${options.ops} ops`;
  if (!result.failure) {
    return {
      result,
      text: `chaos: ${what}: clean (${result.executed.length} steps in ${
        Math.round(result.ms / 1000)
      } s) ${JSON.stringify(result.answers)}`,
    };
  }
  const log = options.log ?? (() => {});
  const shrunk = await shrink(
    result.executed,
    result.failure,
    (sequence) => runChaos({ seed: options.seed, sequence, callTimeoutMs: options.callTimeoutMs }),
    options.shrinkBudgetMs,
    log,
  );
  const sequence = JSON.stringify(shrunk);
  const text = [
    `chaos: ${what}: FAILED at step ${result.failure.step} (${result.failure.op})`,
    `  ${result.failure.message}`,
    options.sequence
      ? `  replay the run:      deno task chaos --sequence '${JSON.stringify(options.sequence)}'`
      : `  replay the run:      deno task chaos --seed ${options.seed} --ops ${options.ops}`,
    `  shortest sequence (${shrunk.length} steps): ${sequence}`,
    `  replay it:           deno task chaos --sequence '${sequence}'`,
  ].join("\n");
  return { result, shrunk, text };
}
