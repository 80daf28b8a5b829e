import assert from "node:assert/strict";
import { checkTunings } from "./tuning_check.ts";
import { FakeRunner } from "../exec/fake_runner.ts";

const TUNING = {
  mount: "fs1-0123456789abcdef",
  fs: "fs1",
  instance: "ffff8881a2b3c000",
  params: ["llite.max_read_ahead_mb=1024", "osc.max_rpcs_in_flight=16"],
};

function lctl(rpcs: string) {
  return new FakeRunner(() => ({
    stdout: [
      "llite.fs1-ffff8881a2b3c000.max_read_ahead_mb=1024",
      "osc.fs1-OST0000-osc-ffff8881a2b3c000.max_rpcs_in_flight=16",
      `osc.fs1-OST0001-osc-ffff8881a2b3c000.max_rpcs_in_flight=${rpcs}`,
    ].join("\n"),
  }));
}

Deno.test("checkTunings() reads the tunables back on the mount's own instance and passes when they hold", async () => {
  const runner = lctl("16");
  const result = await checkTunings([TUNING], { runner, timeoutMs: 1000 });
  assert.equal(result.ok, true);
  assert.match(
    result.detail,
    /fs1-0123456789abcdef \(fs1-ffff8881a2b3c000\): llite\.max_read_ahead_mb=1024 osc\.max_rpcs_in_flight=16/,
  );
  assert.deepEqual(runner.calls[0].args, [
    "get_param",
    "llite.fs1-ffff8881a2b3c000.max_read_ahead_mb",
    "osc.fs1-*-osc-ffff8881a2b3c000.max_rpcs_in_flight",
  ]);
});

Deno.test("checkTunings() fails naming a tunable changed behind the driver's back", async () => {
  const result = await checkTunings([TUNING], { runner: lctl("8"), timeoutMs: 1000 });
  assert.equal(result.ok, false);
  assert.match(
    result.detail,
    /osc\.fs1-\*-osc-ffff8881a2b3c000\.max_rpcs_in_flight is 16\/8, wanted 16/,
  );
  const none = await checkTunings([], { runner: lctl("8"), timeoutMs: 1000 });
  assert.equal(none.ok, true);
});

Deno.test("checkTunings() passes over a note of an instance that is gone", async () => {
  const runner = new FakeRunner(() => ({ code: 2, stderr: "error: get_param: ... No such file" }));
  const result = await checkTunings([TUNING], { runner, timeoutMs: 1000 });
  assert.equal(result.ok, true);
  assert.match(result.detail, /fs1-0123456789abcdef \(fs1-ffff8881a2b3c000\): gone/);
});
