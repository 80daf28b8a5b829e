/**
 * The randomized fault campaign (tests/support/chaos): kubelet's calls over
 * six volumes and four pods mixed with evictions, freezes, MGS outages, slow
 * and missing Lustre tools and kill -9 restarts of the driver, with the
 * invariants checked after every step and at the end. A fixed seed and a
 * time budget keep it deterministic enough for CI; `deno task chaos --seed N
 * --ops M` runs other seeds and longer campaigns.
 */
import assert from "node:assert/strict";
import { runCampaign } from "./support/chaos/campaign.ts";

const SEED = 14;
const OPS = 200;
/** Steps stop being drawn after this; the final phase follows. */
const BUDGET_MS = 50_000;
/** On failure, time spent looking for a shorter failing sequence. */
const SHRINK_MS = 60_000;

Deno.test("a randomized fault campaign keeps every node invariant", async () => {
  const lines: string[] = [];
  const report = await runCampaign({
    seed: SEED,
    ops: OPS,
    budgetMs: BUDGET_MS,
    shrinkBudgetMs: SHRINK_MS,
    log: (line) => lines.push(line),
  });
  if (report.result.failure) console.error(`${lines.slice(-40).join("\n")}\n${report.text}`);
  assert.equal(report.result.failure, undefined, report.text);
  const taken = report.result.executed.length;
  assert.ok(taken >= 50, `only ${taken} steps ran within the budget`);
});

/** Shrunk sequences of campaigns that failed once, each replayed as a scripted test. */
const REGRESSIONS: Array<{ found: string; defect: string; sequence: string[] }> = [
  {
    found: "seed 6, 1000 ops",
    defect: "a publish joining a client check begun while the modules were missing answered " +
      "FAILED_PRECONDITION after they were back (src/lustre/client_state.ts)",
    sequence: [
      "stage 3",
      "evict fs1",
      "modules-missing on",
      "modules-missing off",
      "slow 1000",
      "modules-missing on",
      "restart",
      "modules-missing off",
      "evict fs2",
      "slow off",
      "publish 3 0",
    ],
  },
];

for (const { found, defect, sequence } of REGRESSIONS) {
  Deno.test(`runChaos() replays the failure of ${found}: ${defect}`, async () => {
    const lines: string[] = [];
    const report = await runCampaign({
      seed: 0,
      sequence,
      shrinkBudgetMs: 0,
      log: (line) => lines.push(line),
    });
    if (report.result.failure) console.error(lines.join("\n"));
    assert.equal(report.result.failure, undefined, report.text);
    assert.ok(report.result.executed.length >= sequence.length, lines.join("\n"));
  });
}
