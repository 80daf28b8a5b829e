/**
 * Shrinks a failing run to a shorter sequence that still fails: first the
 * prefix up to the failure, then greedy removal of ever smaller chunks
 * (delta debugging), each candidate run on a fresh node, within a time bound.
 */
import type { Op } from "./model.ts";
import type { ChaosFailure } from "./runner.ts";

/** Runs a sequence; its failure, if any, and the steps it took. */
export type Replay = (
  sequence: readonly Op[],
) => Promise<{ failure?: ChaosFailure; executed: readonly Op[] }>;

/** The shortest failing sequence found within `budgetMs` (the input if none). */
export async function shrink(
  failing: readonly Op[],
  failure: ChaosFailure,
  replay: Replay,
  budgetMs: number,
  log: (line: string) => void = () => {},
): Promise<Op[]> {
  const deadline = performance.now() + budgetMs;
  let best = [...failing];
  /** Tries a candidate; keeps it (cut at its failure) when it fails. */
  const tryCandidate = async (candidate: readonly Op[]): Promise<boolean> => {
    if (performance.now() > deadline) return false;
    const run = await replay(candidate);
    if (!run.failure) return false;
    const cut = run.failure.step >= 0 ? run.executed.slice(0, run.failure.step + 1) : run.executed;
    const next = cut.length < candidate.length ? cut : candidate;
    if (next.length >= best.length) return false;
    best = [...next];
    log(`shrink: ${best.length} steps still fail (${run.failure.message.split("\n")[0]})`);
    return true;
  };
  if (failure.step >= 0) await tryCandidate(failing.slice(0, failure.step + 1));
  for (let chunk = Math.ceil(best.length / 2); chunk >= 1 && performance.now() < deadline;) {
    let removedAny = false;
    for (let i = 0; i < best.length && performance.now() < deadline;) {
      const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
      if (candidate.length > 0 && await tryCandidate(candidate)) removedAny = true;
      else i += chunk;
    }
    if (!removedAny || chunk > 1) chunk = Math.floor(chunk / 2);
    if (chunk === 0) break;
  }
  return best;
}
