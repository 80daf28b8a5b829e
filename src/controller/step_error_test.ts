import assert from "node:assert/strict";
import { Code } from "../csi/csi_error.ts";
import { CommandFailedError, CommandTimeoutError } from "../exec/command_errors.ts";
import { stepCode, stepFailure } from "./step_error.ts";

Deno.test("stepCode() maps what tools and file systems do to codes the provisioner acts on", () => {
  assert.equal(stepCode(new CommandFailedError("lfs", 22, "", "")), Code.INVALID_ARGUMENT);
  assert.equal(stepCode(new CommandFailedError("lfs", 107, "", "")), Code.UNAVAILABLE);
  assert.equal(stepCode(new CommandFailedError("lfs", 1, "", "")), Code.FAILED_PRECONDITION);
  assert.equal(stepCode(new CommandTimeoutError("lfs", 10)), Code.DEADLINE_EXCEEDED);
  assert.equal(
    stepCode(new Deno.errors.NotADirectory("Not a directory (os error 20)")),
    Code.FAILED_PRECONDITION,
  );
  assert.equal(
    stepCode(new Error("Transport endpoint is not connected (os error 107)")),
    Code.UNAVAILABLE,
  );
  assert.equal(stepCode(new TypeError("a bug")), Code.INTERNAL);
});

Deno.test("stepFailure() names the volume, the step and the tool's error", () => {
  const error = stepFailure(
    "pvc-1",
    "lfs setquota",
    new CommandFailedError("lfs", 1, "", "lfs setquota: quotactl failed: Operation not permitted"),
    true,
  );
  assert.equal(error.code, Code.FAILED_PRECONDITION);
  assert.match(
    error.message,
    /^Cannot create volume "pvc-1": step "lfs setquota" failed: "lfs" exited with 1: lfs setquota: quotactl failed: Operation not permitted; .*resumes there$/,
  );
});
