import assert from "node:assert/strict";
import { fail, failed, formatReport, pass, skip } from "./check_result.ts";

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

Deno.test("formatReport() prints a skipped check as SKIP without a fix", () => {
  const result = skip("lnet nids", "lctl", 'missing: "lctl" was not found');
  assert.equal(failed(result), false);
  assert.equal(
    formatReport([result]),
    'SKIP lnet nids: needs lctl: missing: "lctl" was not found\n',
  );
});
