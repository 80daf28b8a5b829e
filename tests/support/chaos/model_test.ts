import assert from "node:assert/strict";
import { MAX_OUTAGE_STEPS, NodeModel } from "./model.ts";
import { Prng } from "./prng.ts";

Deno.test("NodeModel.enabled() follows kubelet's order of calls", () => {
  const model = new NodeModel();
  assert.equal(model.enabled("publish 1 0"), false, "publish before stage");
  assert.equal(model.enabled("unstage 1"), false, "unstage of a volume never staged");
  model.apply("stage 1", true);
  assert.equal(model.enabled("stage 1"), false, "a staged volume is not staged again");
  model.apply("publish 1 0", true);
  assert.equal(model.enabled("unstage 1"), false, "unstage while a pod has it");
  assert.equal(model.enabled("publish 1 0"), false, "publish of a published target");
  model.apply("unpublish 1 0", true);
  assert.equal(model.enabled("unstage 1"), true);
  model.apply("stage 2", false);
  assert.equal(model.enabled("stage 2"), true, "a failed stage is called again");
  assert.equal(model.enabled("publish 2 0"), false, "no publish after a failed stage");
  assert.equal(model.enabled("unstage 2"), true, "a failed stage may be unstaged");
});

Deno.test("NodeModel.next() ends every outage within its bound", () => {
  const model = new NodeModel();
  const prng = new Prng(3);
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const op = model.next(prng);
    assert.ok(model.enabled(op), `step ${i}: "${op}" not enabled`);
    seen.add(op.split(" ")[0]);
    model.apply(op, prng.chance(0.8));
    const open: Array<[string, number | undefined, number]> = [
      ...[...model.frozen].map(([fs, at]): [string, number, number] => [
        `frozen ${fs}`,
        at,
        MAX_OUTAGE_STEPS.freeze,
      ]),
      ["mgs down", model.since.mgsDown, MAX_OUTAGE_STEPS.mgsDown],
      ["slow", model.since.slow, MAX_OUTAGE_STEPS.slow],
      ["modules missing", model.since.modulesMissing, MAX_OUTAGE_STEPS.modulesMissing],
    ];
    for (const [name, since, max] of open) {
      // +2: several outages due at once end one step after another.
      if (since !== undefined) assert.ok(model.step - since <= max + 2, `step ${i}: ${name}`);
    }
  }
  const kinds = ["stage", "publish", "unpublish", "unstage", "evict", "freeze", "thaw", "mgs-down"];
  kinds.push("mgs-up", "slow", "slow-all", "modules-missing", "restart");
  assert.deepEqual([...seen].sort(), kinds.sort());
});
