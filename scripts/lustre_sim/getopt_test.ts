import assert from "node:assert/strict";
import { getopt } from "./getopt.ts";

Deno.test("getopt() parses bundled short options, values and permuted positionals", () => {
  const r = getopt(["-rsp", "1000", "dir", "-c", "-1", "--pool=flash"], "p:rsc:", {
    pool: ["p", true],
  });
  assert.deepEqual(r.opts, [["r", ""], ["s", ""], ["p", "1000"], ["c", "-1"], ["p", "flash"]]);
  assert.deepEqual(r.positionals, ["dir"]);
  assert.equal(r.error, undefined);
});

Deno.test("getopt() reports unknown options and missing values", () => {
  assert.equal(getopt(["-x"], "p:").error, "invalid option -- 'x'");
  assert.equal(getopt(["-p"], "p:").error, "option requires an argument -- 'p'");
  assert.equal(getopt(["--nope"], "p:").error, "unrecognized option '--nope'");
});
