import assert from "node:assert/strict";
import { SystemRunner } from "./command_runner.ts";
import { CommandFailedError, CommandNotFoundError, CommandTimeoutError } from "./command_errors.ts";

async function withBin(body: (bin: string) => Promise<void>) {
  const bin = await Deno.makeTempDir({ prefix: "runner-test-" });
  try {
    await body(bin);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
}

async function script(path: string, text: string) {
  await Deno.writeTextFile(path, `#!/bin/sh\n${text}\n`);
  await Deno.chmod(path, 0o755);
}

Deno.test("SystemRunner.run() finds programs on its PATH only and reports exits", async () => {
  await withBin(async (bin) => {
    await script(`${bin}/tool`, 'echo "out $1"; echo "err" >&2; exit 3');
    const runner = new SystemRunner({ pathEnv: bin, ldLibraryPath: "" });
    const result = await runner.run("tool", ["x"], { timeoutMs: 5000, check: false });
    assert.equal(result.code, 3);
    assert.equal(result.stdout, "out x\n");
    await assert.rejects(runner.run("tool", [], { timeoutMs: 5000 }), CommandFailedError);
    await assert.rejects(runner.run("ls", [], { timeoutMs: 5000 }), CommandNotFoundError);
  });
});

Deno.test("SystemRunner.run() kills the whole process group at the timeout and returns", async () => {
  await withBin(async (bin) => {
    // Durations no other process on the machine uses, so pgrep finds only this group's children.
    const tag = `${300 + Math.floor(Math.random() * 1e6) / 1e7}`;
    await script(`${bin}/hang`, `/bin/sleep ${tag} & /bin/sleep ${tag}1; echo never`);
    const runner = new SystemRunner({ pathEnv: bin, ldLibraryPath: "" });
    const started = performance.now();
    await assert.rejects(runner.run("hang", [], { timeoutMs: 300 }), CommandTimeoutError);
    assert.ok(performance.now() - started < 3000);
    const left = await new Deno.Command("pgrep", { args: ["-f", `sleep ${tag}`] }).output();
    assert.equal(
      new TextDecoder().decode(left.stdout).trim(),
      "",
      "no child of the group survives",
    );
  });
});

Deno.test("SystemRunner.run() can start tools through a given dynamic loader", async () => {
  await withBin(async (bin) => {
    await script(`${bin}/tool`, "echo tool");
    await script(`${bin}/loader`, 'echo "loader $*"');
    const runner = new SystemRunner({
      pathEnv: bin,
      ldLibraryPath: "/host/lib64:/lib/x86_64-linux-gnu",
      hostLoader: `${bin}/loader`,
    });
    const { stdout } = await runner.run("tool", ["-V"], { timeoutMs: 5000 });
    assert.equal(
      stdout.trim(),
      `loader --library-path /host/lib64:/lib/x86_64-linux-gnu ${bin}/tool -V`,
    );
    const auto = new SystemRunner({ pathEnv: bin, ldLibraryPath: "", hostLoader: "auto" });
    assert.equal((await auto.run("tool", [], { timeoutMs: 5000 })).stdout.trim(), "tool");
  });
});
