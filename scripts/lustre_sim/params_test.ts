import assert from "node:assert/strict";
import { matchParam, normalisePattern } from "./params.ts";

Deno.test("matchParam() matches lctl globs segment by segment", () => {
  const name = "osc.fs1-OST0000-osc-ffff8881a2b3c000.max_rpcs_in_flight";
  assert.ok(matchParam("osc.*.max_rpcs_in_flight", name));
  assert.ok(matchParam("osc/fs1-*/max_rpcs_in_flight", name));
  assert.ok(matchParam("osc.fs1-OST000[0-3]-osc-*.max_rpcs_in_flight", name));
  assert.ok(!matchParam("osc.fs2-*.max_rpcs_in_flight", name));
  assert.ok(!matchParam("*.max_rpcs_in_flight", name), "* does not cross a dot");
  assert.equal(normalisePattern("llite/*/stats"), "llite.*.stats");
});
