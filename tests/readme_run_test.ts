/**
 * README.md's "Run the driver" command, run as written on a machine where
 * the socket's directory does not exist: it serves, stops on SIGTERM with
 * exit 0, leaves no mount behind and writes only JSON lines on stderr; and
 * the controller unmounts what it mounted when it stops.
 */
import assert from "node:assert/strict";
import {
  DENO,
  DriverProcess,
  REPO,
  runCli,
  startDriver,
  tempDir,
  waitForSocket,
} from "./support/driver.ts";
import { startSim } from "./support/sim.ts";
import { capability, FS1 } from "./support/node_env.ts";
import { Controller } from "../src/csi/gen/csi_pb.ts";

/** The first `deno task` line of the README's "Run the driver" shell block. */
async function readmeRunCommand(): Promise<string> {
  const readme = await Deno.readTextFile(`${REPO}/README.md`);
  const section = readme.split("\n## Run the driver\n")[1] ?? "";
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const line = block.split("\n").find((l) => l.startsWith("deno task"));
  assert.ok(line, "README.md has no deno task line under ## Run the driver");
  return line.replace(/\s+#.*$/, "");
}

/** Mount points at or below `path` in this test's mount namespace. */
async function mountsBelow(path: string): Promise<string[]> {
  return (await Deno.readTextFile("/proc/self/mountinfo")).split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p) => p !== undefined && (p === path || p.startsWith(`${path}/`)));
}

/** Every non-empty stderr line parsed as JSON; fails naming a line that is not. */
function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr.split("\n").filter((l) => l.trim() !== "").map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      assert.fail(`stderr line is not JSON: ${line}`);
    }
  });
}

Deno.test("README's run command serves, stops on SIGTERM with exit 0 and leaves no mount", async () => {
  const command = await readmeRunCommand();
  assert.match(command, /unix:\/\/\/csi\/csi\.sock/);
  await using simDir = await tempDir("klustre-readme-sim-");
  await using dir = await tempDir("klustre-readme-");
  const sim = await startSim(`${simDir.path}/sim`);
  try {
    const socketDir = `${dir.path}/csi`; // does not exist, like /csi on a fresh machine
    const words = command
      .replace("unix:///csi/csi.sock", `unix://${socketDir}/csi.sock`)
      .replace('"$(hostname)"', Deno.hostname())
      .split(/\s+/);
    assert.equal(words[0], "deno");
    await Deno.mkdir(`${dir.path}/kubelet`);
    const child = new Deno.Command(DENO, {
      args: [
        ...words.slice(1),
        "--path-env",
        sim.pathEnv,
        "--state-dir",
        `${dir.path}/state`,
        "--kubelet-dir",
        `${dir.path}/kubelet`,
      ],
      cwd: REPO,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await using driver = new DriverProcess(child, `${socketDir}/csi.sock`);
    await waitForSocket(driver);
    assert.equal((await Deno.stat(socketDir)).mode! & 0o777, 0o750);
    assert.deepEqual(await mountsBelow(`${dir.path}/state`), [`${dir.path}/state`]);

    const status = await driver.stop("SIGTERM");
    assert.equal(status.code, 0, driver.logs());
    assert.deepEqual(await mountsBelow(dir.path), []);
    const lines = jsonLines(driver.logs());
    assert.ok(lines.some((l) => String(l.message).startsWith("Serving node on unix://")));
    assert.equal(lines.at(-1)?.message, "Stopped");
    await assert.rejects(Deno.lstat(`${socketDir}/csi.sock`), Deno.errors.NotFound);
  } finally {
    await sim[Symbol.asyncDispose]();
  }
});

Deno.test("klustre-csi node that cannot make its socket's directory says so in one JSON line", async () => {
  await using dir = await tempDir("klustre-readme-");
  await Deno.writeTextFile(`${dir.path}/file`, "");
  const socketDir = `${dir.path}/file/csi`;
  const args = ["node", "--node-id", "n1", "--endpoint", `unix://${socketDir}/csi.sock`];
  const stateDir = `${dir.path}/state`;
  const result = await runCli([...args, "--state-dir", stateDir, "--path-env", "/nowhere"]);
  assert.equal(result.code, 1, result.stderr);
  const errors = jsonLines(result.stderr).filter((l) => l.level === "ERROR");
  assert.equal(errors.length, 1, result.stderr);
  assert.match(
    String(errors[0].message),
    /^Cannot serve node: Cannot create the socket's directory/,
  );
  assert.ok(String(errors[0].message).includes(`"${socketDir}"`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace at info");
  assert.deepEqual(await mountsBelow(dir.path), []);

  // A path too long for a unix socket: grpc-js's own complaint is a JSON line too.
  const long = `${dir.path}/${"x".repeat(120)}/csi.sock`;
  const tooLong = await runCli([
    "node",
    "--node-id",
    "n1",
    "--endpoint",
    `unix://${long}`,
    "--state-dir",
    stateDir,
  ]);
  assert.equal(tooLong.code, 1);
  assert.match(
    String(jsonLines(tooLong.stderr).find((l) => l.level === "ERROR")?.message),
    /^Cannot serve node: Cannot listen on/,
  );
  assert.deepEqual(await mountsBelow(dir.path), []);

  const debug = await runCli([...args, "--state-dir", stateDir, "--log-level", "debug"]);
  assert.equal(debug.code, 1);
  assert.ok(jsonLines(debug.stderr).some((l) => /\n\s+at /.test(String(l.stack))));
});

Deno.test("klustre-csi controller unmounts the file systems it mounted when it stops", async () => {
  await using simDir = await tempDir("klustre-readme-sim-");
  await using dir = await tempDir("klustre-readme-");
  const sim = await startSim(`${simDir.path}/sim`);
  try {
    const driver = await startDriver({
      dir: dir.path,
      mode: "controller",
      args: ["--path-env", sim.pathEnv],
    });
    await driver.client.call(Controller.method.createVolume, {
      name: "pvc-exit",
      capacityRange: { requiredBytes: 1n << 30n },
      volumeCapabilities: [capability()],
      parameters: { source: FS1, basePath: "k8s" },
    });
    const stateDir = `${dir.path}/state`;
    assert.ok((await mountsBelow(stateDir)).some((p) => p.startsWith(`${stateDir}/`)));
    const status = await driver.stop("SIGTERM");
    assert.equal(status.code, 0, driver.logs());
    assert.deepEqual(await mountsBelow(dir.path), []);
    jsonLines(driver.logs());
  } finally {
    await sim[Symbol.asyncDispose]();
  }
});
