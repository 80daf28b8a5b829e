/**
 * The end of a run, once every fault is cleared: kubelet first completes
 * what it was still trying (failed stages and publishes) and starts a new
 * pod on every staged volume that has no working one, so a volume it saw
 * staged must become usable again; then it removes every pod and unstages
 * every volume. Both retry what fails, as kubelet does, for a bounded time.
 */
import { PODS, VOLUMES } from "./cluster.ts";
import type { NodeModel, Op } from "./model.ts";
import { check } from "./invariant.ts";

/** Rounds of kubelet's retries in each end phase (backoff 0.5 s, 1 s, ... between rounds). */
const ROUNDS = 10;

/** Runs one campaign step (a kubelet call); its answer is recorded in the model. */
export type Step = (op: Op) => Promise<unknown>;

/** Kubelet retries failed stages/publishes and gives every staged volume a working pod. */
export async function settle(model: NodeModel, step: Step): Promise<void> {
  await retryUntilDone(
    () => settleCalls(model),
    (left) => `With every fault cleared, kubelet's calls kept failing: ${left.join(", ")}`,
    step,
  );
}

/** Kubelet removes every pod and then every staged volume, retrying what fails. */
export async function drain(model: NodeModel, step: Step): Promise<void> {
  await retryUntilDone(
    () => [
      ...[...model.targets.values()].map((t) => `unpublish ${t.volume} ${t.pod}`),
      ...[...model.stages.keys()].map((v) => `unstage ${v}`).filter((op) => model.enabled(op)),
    ],
    (left) => `With every fault cleared, kubelet could not unpublish/unstage: ${left.join(", ")}`,
    step,
  );
}

/** The calls still wanted to settle the node (empty when settled). */
function settleCalls(model: NodeModel): Op[] {
  const calls = [...model.failed].filter((op) => /^(stage|publish) /.test(op) && model.enabled(op));
  for (const [v, volume] of VOLUMES.entries()) {
    if (model.stages.get(v) !== "staged") continue;
    const mine = [...model.targets.values()].filter((t) => t.volume === v);
    const working = mine.some((t) =>
      t.state === "published" && t.epoch === model.evictions[volume.fs]
    );
    if (working || calls.some((op) => op.startsWith(`publish ${v} `))) continue;
    const free = PODS.findIndex((_, p) => !mine.some((t) => t.pod === p));
    // Every pod holds a stale target (its file system was evicted since): one pod goes first.
    calls.push(free >= 0 ? `publish ${v} ${free}` : `unpublish ${v} ${mine[0].pod}`);
  }
  return calls;
}

async function retryUntilDone(
  wanted: () => Op[],
  failure: (left: Op[]) => string,
  step: Step,
): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const calls = wanted();
    if (calls.length === 0) return;
    for (const op of calls) await step(op);
    await new Promise((resolve) => setTimeout(resolve, 500 * (round + 1)));
  }
  const left = wanted();
  check(left.length === 0, failure(left));
}
