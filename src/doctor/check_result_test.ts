import assert from "node:assert/strict";
import { fail, formatReport, pass } from "./check_result.ts";

Deno.test("formatReport() prints one line per check and a fix under each failure", () => {
  const report = formatReport([
    pass("tool lfs", "version 2.15.6"),
    fail("lustre modules", "not loaded:\n  No such device", "modprobe lustre"),
  ]);
  assert.equal(
    report,
    "PASS tool lfs: version 2.15.6\n" +
      "FAIL lustre modules: not loaded: No such device\n" +
      "  fix: modprobe lustre\n",
  );
});
