/**
 * `deno task chaos --seed N --ops M`: one randomized fault campaign against
 * the real driver and the simulator (tests/support/chaos); or
 * `--sequence '["stage 0", ...]'` to replay a printed sequence. Exits 1 when
 * an invariant breaks, after printing the shortest failing sequence found.
 * Runs under `unshare --mount --propagation private` (the task does that).
 */
import { parseArgs } from "node:util";
import { runCampaign } from "../tests/support/chaos/campaign.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string", default: "1" },
    ops: { type: "string", default: "1000" },
    sequence: { type: "string" },
    "shrink-s": { type: "string", default: "600" },
    "budget-s": { type: "string" },
    "call-timeout-s": { type: "string", default: "30" },
    quiet: { type: "boolean", default: false },
  },
});
const seed = Number(values.seed);
const ops = Number(values.ops);
if (!Number.isInteger(seed) || !Number.isInteger(ops) || ops < 0) {
  console.error("usage: deno task chaos [--seed N] [--ops M] [--sequence JSON] [--shrink-s S]");
  Deno.exit(2);
}
const sequence = values.sequence === undefined ? undefined : JSON.parse(values.sequence);
const report = await runCampaign({
  seed,
  ops,
  sequence,
  budgetMs: values["budget-s"] ? Number(values["budget-s"]) * 1000 : undefined,
  shrinkBudgetMs: Number(values["shrink-s"]) * 1000,
  callTimeoutMs: Number(values["call-timeout-s"]) * 1000,
  log: values.quiet ? undefined : (line) => console.log(line),
});
console.log(report.text);
Deno.exit(report.result.failure ? 1 : 0);
