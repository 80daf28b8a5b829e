import assert from "node:assert/strict";
import { Code, CsiError } from "../csi/csi_error.ts";
import { FakeRunner } from "../exec/fake_runner.ts";
import { FakeLogger } from "../fake_logger.ts";
import { parseParameters } from "./parameters.ts";
import { Preflight } from "./preflight.ts";

const params = (extra: Record<string, string> = {}) =>
  parseParameters({ source: "10.0.0.1@tcp:/fs1", ...extra }).params;

function preflight(runner: FakeRunner, clock = { ms: 0 }) {
  return new Preflight({
    runner,
    logger: new FakeLogger(),
    config: { commandTimeoutMs: 1000 },
    nowMs: () => clock.ms,
  });
}

Deno.test("Preflight.check() refuses a pool the file system lacks, naming the pools it has", async () => {
  const runner = new FakeRunner((_, args) =>
    args[0] === "pool_list" ? { stdout: "Pools from fs1:\nfs1.flash\nfs1.ssd\n" } : {}
  );
  const error = await preflight(runner).check("pvc-1", "/m", params({ pool: "fast" })).catch((
    e,
  ) => e);
  assert.ok(error instanceof CsiError);
  assert.equal(error.code, Code.INVALID_ARGUMENT);
  assert.match(error.message, /has no pool "fast"; its pools: flash, ssd/);
  assert.equal(await preflight(runner).check("pvc-1", "/m", params({ pool: "ssd" })), undefined);
  const none = new FakeRunner(() => ({ stdout: "Pools from fs1:\n" }));
  const empty = await preflight(none).check("p", "/m", params({ pool: "x" })).catch((e) => e);
  assert.match(empty.message, /it has no pools/);
});

Deno.test("Preflight.check() warns when project quotas are off and remembers them on", async () => {
  const off = new FakeRunner(() => ({ code: 3, stdout: "prj quotas are not enabled.\n" }));
  const warning = await preflight(off).check("pvc-1", "/m", params());
  assert.match(warning ?? "", /project quotas are not enabled on file system "fs1"/);
  assert.match(warning ?? "", /lctl conf_param fs1\.quota\.ost=ugp/);

  const on = new FakeRunner();
  const clock = { ms: 0 };
  const checks = preflight(on, clock);
  assert.equal(await checks.check("a", "/m", params()), undefined);
  assert.equal(await checks.check("b", "/m", params()), undefined);
  assert.equal(on.calls.length, 1, "an enabled answer is reused");
  clock.ms = 10 * 60_000;
  await checks.check("c", "/m", params());
  assert.equal(on.calls.length, 2, "and checked again later");
});

Deno.test("Preflight.check() names the step when lfs pool_list fails", async () => {
  const runner = new FakeRunner(() => ({ code: 5, stderr: "lfs pool_list: Input/output error" }));
  const error = await preflight(runner).check("pvc-1", "/m", params({ pool: "a" })).catch((e) => e);
  assert.equal(error.code, Code.UNAVAILABLE);
  assert.match(
    error.message,
    /step "check the pool \(lfs pool_list\)" failed: .*Input\/output error/,
  );
});
