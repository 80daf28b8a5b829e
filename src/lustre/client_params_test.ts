import assert from "node:assert/strict";
import {
  formatClientParam,
  parseClientParams,
  parseInstance,
  setParamArgs,
} from "./client_params.ts";

Deno.test("parseClientParams() accepts commas, spaces and llite.*. paths, sorted, last value wins", () => {
  const parsed = parseClientParams(
    "osc.*.max_rpcs_in_flight=16 llite.max_read_ahead_mb=64,llite.*.max_read_ahead_mb=1024",
  );
  assert.deepEqual(parsed.map(formatClientParam), [
    "llite.max_read_ahead_mb=1024",
    "osc.max_rpcs_in_flight=16",
  ]);
  assert.deepEqual(parseClientParams(""), []);
});

Deno.test("parseClientParams() refuses unknown tunables, values out of range and bad syntax, naming them", () => {
  assert.throws(
    () => parseClientParams("mdc.*.max_rpcs_in_flight=8"),
    /"mdc\.\*\.max_rpcs_in_flight" is not an allowed/,
  );
  assert.throws(() => parseClientParams("llite.stats=0"), /"llite\.stats" is not an allowed/);
  assert.throws(() => parseClientParams("osc.max_rpcs_in_flight=513"), /from 1 to 512/);
  assert.throws(() => parseClientParams("osc.checksums=yes"), /"osc\.checksums" value "yes"/);
  assert.throws(() => parseClientParams("llite.fast_read"), /is not NAME=VALUE/);
});

Deno.test("setParamArgs() targets one instance: its llite device and each of its OSCs", () => {
  const params = parseClientParams("llite.max_read_ahead_mb=1024,osc.max_rpcs_in_flight=16");
  assert.deepEqual(setParamArgs({ fsName: "fs1", instance: "ffff8881a2b3c000" }, params), [
    "set_param",
    "llite.fs1-ffff8881a2b3c000.max_read_ahead_mb=1024",
    "osc.fs1-*-osc-ffff8881a2b3c000.max_rpcs_in_flight=16",
  ]);
});

Deno.test("parseInstance() reads lfs getname output, with or without the mount point", () => {
  assert.equal(parseInstance("fs1", "fs1-ffff8881a2b3c000\n"), "ffff8881a2b3c000");
  assert.equal(parseInstance("my-fs", "my-fs-ffff8881a2b3c000 /mnt/x\n"), "ffff8881a2b3c000");
  assert.throws(() => parseInstance("fs1", "fs2-ffff8881a2b3c000"), /not "fs1-<instance>"/);
});
