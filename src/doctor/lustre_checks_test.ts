import assert from "node:assert/strict";
import { FakeRunner } from "../exec/fake_runner.ts";
import { CommandNotFoundError, CommandTimeoutError } from "../exec/command_errors.ts";
import { parseLustreSource } from "../lustre/source.ts";
import { checkMgs, checkModules, checkNids, checkTool, mgsNodesOf } from "./lustre_checks.ts";

function deps(runner: FakeRunner) {
  return { runner, timeoutMs: 4000, pathEnv: "/sbin" };
}

Deno.test("checkTool() passes with the version the tool prints", async () => {
  const runner = new FakeRunner(() => ({ stdout: "mount.lustre 2.15.6 (libmount)\n" }));
  const result = await checkTool("mount.lustre", "-V", deps(runner));
  assert.deepEqual(result, { name: "tool mount.lustre", ok: true, detail: "version 2.15.6" });
  assert.deepEqual(runner.calls, [{ command: "mount.lustre", args: ["-V"], timeoutMs: 4000 }]);
});

Deno.test("checkTool() fails with a fix when the tool is missing or broken", async () => {
  const missing = await checkTool(
    "lfs",
    "--version",
    deps(new FakeRunner(() => new CommandNotFoundError("lfs", "/sbin"))),
  );
  assert.equal(missing.ok, false);
  assert.match(missing.detail, /"lfs" was not found on PATH "\/sbin"/);
  assert.match(missing.fix!, /--path-env/);
  const broken = await checkTool(
    "lfs",
    "--version",
    deps(new FakeRunner(() => ({ code: 127, stderr: "error while loading shared libraries" }))),
  );
  assert.equal(broken.ok, false);
  assert.match(broken.detail, /shared libraries/);
  assert.match(broken.fix!, /--ld-library-path/);
});

Deno.test("checkModules() passes with the client version and fails when lctl cannot read it", async () => {
  const loaded = await checkModules(deps(new FakeRunner(() => ({ stdout: "2.15.6\n" }))));
  assert.deepEqual([loaded.ok, loaded.detail], [true, "loaded, client version 2.15.6"]);
  const missing = await checkModules(
    deps(new FakeRunner(() => ({ code: 2, stderr: "error: get_param: param_path 'version'" }))),
  );
  assert.equal(missing.ok, false);
  assert.match(missing.detail, /^not loaded: .*param_path/);
  assert.match(missing.fix!, /modprobe lustre/);
  const empty = await checkModules(deps(new FakeRunner(() => ({ stdout: "\n" }))));
  assert.equal(empty.ok, false);
});

Deno.test("checkNids() lists the NIDs and fails when LNet has none or is down", async () => {
  const up = await checkNids(
    deps(new FakeRunner(() => ({ stdout: "10.0.0.100@tcp\n1@o2ib\n" }))),
    true,
  );
  assert.deepEqual(up.nids, ["10.0.0.100@tcp", "1@o2ib"]);
  assert.equal(up.result.detail, "10.0.0.100@tcp, 1@o2ib");
  const none = await checkNids(deps(new FakeRunner(() => ({ stdout: "" }))), true);
  assert.equal(none.result.ok, false);
  const lnetDown = new FakeRunner(() => ({
    code: 1,
    stderr: "opening /dev/lnet failed: No such device",
  }));
  const down = await checkNids(deps(lnetDown), true);
  assert.equal(down.result.ok, false);
  assert.match(down.result.detail, /LNet is not running: .*\/dev\/lnet/);
  assert.match(down.result.fix!, /lnetctl/);
  const noModules = await checkNids(deps(lnetDown), false);
  assert.match(noModules.result.fix!, /^load the Lustre modules first/);
});

Deno.test("mgsNodesOf() lists each MGS node once with the file systems it serves", () => {
  const nodes = mgsNodesOf([
    parseLustreSource("10.0.0.1@tcp0:10.0.0.2@tcp:/fs1"),
    parseLustreSource("10.0.0.1@tcp:/fs2"),
    parseLustreSource("10.0.1.1@tcp,10.1.1.1@o2ib:/fs3"),
  ]);
  assert.deepEqual(nodes, [
    { nids: ["10.0.0.1@tcp"], fileSystems: ["fs1", "fs2"] },
    { nids: ["10.0.0.2@tcp"], fileSystems: ["fs1"] },
    { nids: ["10.0.1.1@tcp", "10.1.1.1@o2ib"], fileSystems: ["fs3"] },
  ]);
});

Deno.test("checkMgs() passes when any NID of the node answers lctl ping", async () => {
  const runner = new FakeRunner((_, args) =>
    args[1] === "10.1.1.1@o2ib"
      ? { stdout: "12345-0@lo\n12345-10.1.1.1@o2ib\n", durationMs: 3 }
      : { code: 1, stderr: `failed to ping ${args[1]}: Input/output error` }
  );
  const node = { nids: ["10.0.1.1@tcp", "10.1.1.1@o2ib"], fileSystems: ["fs3"] };
  const result = await checkMgs(node, ["10.0.0.100@tcp"], deps(runner));
  assert.equal(result.ok, true);
  assert.equal(result.name, "mgs 10.0.1.1@tcp,10.1.1.1@o2ib (fs3)");
  assert.equal(result.detail, "10.1.1.1@o2ib answered lctl ping in 3 ms");
  assert.deepEqual(runner.calls.map((c) => c.args), [
    ["ping", "10.0.1.1@tcp", "2"],
    ["ping", "10.1.1.1@o2ib", "2"],
  ]);
});

Deno.test("checkMgs() fails with every NID's error and names a network this node lacks", async () => {
  const runner = new FakeRunner(() => new CommandTimeoutError("lctl", 4000));
  const node = { nids: ["10.0.0.1@o2ib"], fileSystems: ["fs1"] };
  const result = await checkMgs(node, ["10.0.0.100@tcp"], deps(runner));
  assert.equal(result.ok, false);
  assert.match(
    result.detail,
    /no NID answered: 10\.0\.0\.1@o2ib: "lctl" did not finish within 4000 ms/,
  );
  assert.match(result.fix!, /^this node has no NID on network o2ib/);
  const sameNet = await checkMgs({ nids: ["10.0.0.1@tcp"], fileSystems: ["fs1"] }, [
    "10.0.0.100@tcp",
  ], deps(runner));
  assert.match(sameNet.fix!, /^check that the MGS is up/);
  const lnetDown = await checkMgs(
    { nids: ["10.0.0.1@tcp"], fileSystems: ["fs1"] },
    [],
    deps(runner),
  );
  assert.match(lnetDown.fix!, /^LNet is not running on this node/);
});
