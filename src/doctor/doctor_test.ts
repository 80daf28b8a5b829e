import assert from "node:assert/strict";
import { runDoctor } from "./doctor.ts";
import { formatReport } from "./check_result.ts";
import { FakeRunner } from "../exec/fake_runner.ts";
import { CommandNotFoundError } from "../exec/command_errors.ts";
import { parseLustreSource } from "../lustre/source.ts";

const OPTIONS = {
  sources: [parseLustreSource("10.0.0.1@tcp:10.0.0.2@tcp:/fs1")],
  kubeletDir: "/var/lib/kubelet",
  timeoutMs: 1000,
  pathEnv: "/empty",
};

function deps(runner: FakeRunner) {
  return {
    runner,
    isDirectory: () => Promise.resolve(true),
    probe: () => Promise.resolve(true),
    describe: (command: string) => Promise.reject(new CommandNotFoundError(command, "/empty")),
  };
}

Deno.test("runDoctor() without lctl fails the tool and skips what needs it instead of blaming modules or LNet", async () => {
  const runner = new FakeRunner((command) => new CommandNotFoundError(command, "/empty"));
  const report = formatReport(await runDoctor(OPTIONS, deps(runner)));
  assert.deepEqual(report.split("\n").filter((l) => !l.startsWith("  fix:") && l !== ""), [
    'SKIP host loader: needs mount.lustre: "mount.lustre" was not found on PATH "/empty"',
    'FAIL tool mount.lustre: missing: "mount.lustre" was not found on PATH "/empty"',
    'FAIL tool lfs: missing: "lfs" was not found on PATH "/empty"',
    'FAIL tool lctl: missing: "lctl" was not found on PATH "/empty"',
    'SKIP lustre modules: needs lctl: missing: "lctl" was not found on PATH "/empty"',
    'SKIP lnet nids: needs lctl: missing: "lctl" was not found on PATH "/empty"',
    'SKIP mgs 10.0.0.1@tcp (fs1): needs lctl: missing: "lctl" was not found on PATH "/empty"',
    'SKIP mgs 10.0.0.2@tcp (fs1): needs lctl: missing: "lctl" was not found on PATH "/empty"',
    "PASS kubelet dir: /var/lib/kubelet exists",
  ]);
  assert.doesNotMatch(report, /modprobe|LNet is not running/);
  // Only the version runs: nothing asked lctl for modules, NIDs or pings.
  assert.deepEqual(runner.calls.filter((c) => c.command === "lctl").map((c) => c.args), [
    ["--version"],
  ]);
});

Deno.test("runDoctor() with lctl but without lfs still checks modules and LNet", async () => {
  const runner = new FakeRunner((command, args) => {
    if (command === "lfs") return new CommandNotFoundError(command, "/empty");
    if (args[0] === "get_param") return { stdout: "2.15.6\n" };
    if (args[0] === "list_nids") return { stdout: "10.0.0.100@tcp\n" };
    return { stdout: `${command} 2.15.6\n` };
  });
  const results = await runDoctor(OPTIONS, deps(runner));
  const status = Object.fromEntries(
    results.map((r) => [r.name, r.ok ? "PASS" : r.skipped ? "SKIP" : "FAIL"]),
  );
  assert.equal(status["tool lfs"], "FAIL");
  assert.equal(status["lustre modules"], "PASS");
  assert.equal(status["lnet nids"], "PASS");
  assert.equal(status["mgs 10.0.0.1@tcp (fs1)"], "PASS");
});
