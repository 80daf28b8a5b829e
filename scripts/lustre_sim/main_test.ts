import assert from "node:assert/strict";
import { splitFaultArgs } from "./main.ts";

Deno.test("splitFaultArgs() finds the kind and drops --root", () => {
  assert.deepEqual(splitFaultArgs(["--root", "/s", "mgs-down", "--delay-ms", "5"]), {
    kind: "mgs-down",
    args: ["--delay-ms", "5"],
  });
  assert.deepEqual(splitFaultArgs(["hang", "on", "--root=/s", "--cmd", "lfs"]), {
    kind: "hang",
    args: ["on", "--cmd", "lfs"],
  });
});
