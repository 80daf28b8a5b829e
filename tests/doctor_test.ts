/**
 * `klustre-csi doctor` against the Lustre simulator: it passes a healthy
 * node, and each injected fault fails its own check, named with a fix.
 */
import assert from "node:assert/strict";
import { runCli, startDriver, tempDir } from "./support/driver.ts";
import { type Sim, startSim } from "./support/sim.ts";

const SOURCES = ["--source", "10.0.0.1@tcp:10.0.0.2@tcp:/fs1", "--source", "10.0.0.1@tcp:/fs2"];

/** Runs the real CLI; resolves with its exit code and the PASS/FAIL lines by check name. */
async function doctor(args: string[]) {
  const output = await runCli(["doctor", "--timeout-ms", "5000", ...args], { CSI_ENDPOINT: "" });
  const stdout = output.stdout;
  const checks = new Map<
    string,
    { ok: boolean; skipped: boolean; detail: string; fix?: string }
  >();
  const lines = stdout.split("\n");
  lines.forEach((line, i) => {
    const match = /^(PASS|FAIL|SKIP) ([^:]+): (.*)$/.exec(line);
    if (!match) return;
    const fix = /^ {2}fix: (.+)$/.exec(lines[i + 1] ?? "")?.[1];
    const status = match[1];
    checks.set(match[2], {
      ok: status === "PASS",
      skipped: status === "SKIP",
      detail: match[3],
      fix,
    });
  });
  return { code: output.code, stdout, stderr: output.stderr, checks };
}

/** The names of the failed checks. */
function failed(checks: Map<string, { ok: boolean; skipped: boolean }>): string[] {
  return [...checks].filter(([, c]) => !c.ok && !c.skipped).map(([name]) => name);
}

/** The names of the skipped checks. */
function skipped(checks: Map<string, { skipped: boolean }>): string[] {
  return [...checks].filter(([, c]) => c.skipped).map(([name]) => name);
}

async function withSim(test: (sim: Sim, dir: string) => Promise<void>) {
  await using dir = await tempDir("klustre-doctor-");
  const sim = await startSim(`${dir.path}/sim`);
  try {
    await test(sim, dir.path);
  } finally {
    await sim[Symbol.asyncDispose]();
  }
}

Deno.test("doctor passes every check on a healthy node and exits 0", async () => {
  await withSim(async (sim, dir) => {
    const result = await doctor(["--path-env", sim.pathEnv, "--kubelet-dir", dir, ...SOURCES]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual([...result.checks.keys()], [
      "host loader",
      "tool mount.lustre",
      "tool lfs",
      "tool lctl",
      "lustre modules",
      "lnet nids",
      "mgs 10.0.0.1@tcp (fs1, fs2)",
      "mgs 10.0.0.2@tcp (fs1)",
      // The simulator's exports are mounts of both file systems in this namespace.
      "root squash fs1",
      "root squash fs2",
      "kubelet dir",
    ]);
    assert.deepEqual(failed(result.checks), []);
    assert.equal(result.checks.get("tool lfs")?.detail, "version 2.15.6");
    assert.equal(result.checks.get("lnet nids")?.detail, "10.0.0.100@tcp");
    assert.match(result.checks.get("host loader")!.detail, /^not used: .* outside the host root/);
  });
});

Deno.test("doctor fails the root squash check of a file system that squashes root", async () => {
  await withSim(async (sim, dir) => {
    await sim.fault("root-squash", "fs2", "on");
    // A mount of fs2 made now sees the squash.
    await Deno.mkdir(`${dir}/fs2`);
    const mounted = await new Deno.Command(`${sim.bin}/mount.lustre`, {
      args: ["10.0.0.1@tcp:/fs2", `${dir}/fs2`],
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.equal(mounted.code, 0);
    const result = await doctor(["--path-env", sim.pathEnv, "--kubelet-dir", dir, ...SOURCES]);
    assert.equal(result.code, 1);
    assert.deepEqual(failed(result.checks), ["root squash fs2"]);
    const check = result.checks.get("root squash fs2")!;
    assert.match(check.detail, /owned by uid 65534/);
    assert.match(check.fix!, /nosquash_nids/);
  });
});

Deno.test("doctor fails only the MGS that is down", async () => {
  await withSim(async (sim, dir) => {
    await sim.fault("mgs-down", "--nid", "10.0.0.2@tcp");
    const result = await doctor(["--path-env", sim.pathEnv, "--kubelet-dir", dir, ...SOURCES]);
    assert.equal(result.code, 1);
    assert.deepEqual(failed(result.checks), ["mgs 10.0.0.2@tcp (fs1)"]);
    const check = result.checks.get("mgs 10.0.0.2@tcp (fs1)")!;
    assert.match(check.detail, /failed to ping 10\.0\.0\.2@tcp/);
    assert.match(check.fix!, /MGS is up and reachable/);
  });
});

Deno.test("doctor fails the modules, LNet and MGS checks when the modules are missing", async () => {
  await withSim(async (sim, dir) => {
    await sim.fault("modules-missing", "on");
    const result = await doctor(["--path-env", sim.pathEnv, "--kubelet-dir", dir, ...SOURCES]);
    assert.equal(result.code, 1);
    assert.deepEqual(failed(result.checks), [
      "lustre modules",
      "lnet nids",
      "mgs 10.0.0.1@tcp (fs1, fs2)",
      "mgs 10.0.0.2@tcp (fs1)",
    ]);
    assert.match(result.checks.get("lustre modules")!.fix!, /modprobe lustre/);
    assert.match(result.checks.get("lnet nids")!.fix!, /^load the Lustre modules first/);
    assert.match(result.checks.get("mgs 10.0.0.1@tcp (fs1, fs2)")!.fix!, /^LNet is not running/);
  });
});

Deno.test("doctor fails the one tool missing from --path-env", async () => {
  await withSim(async (sim, dir) => {
    const bin = `${dir}/partial-bin`;
    await Deno.mkdir(bin);
    for (const tool of ["mount.lustre", "lctl"]) {
      await Deno.symlink(`${sim.bin}/${tool}`, `${bin}/${tool}`);
    }
    const result = await doctor(["--path-env", bin, "--kubelet-dir", dir]);
    assert.equal(result.code, 1);
    assert.deepEqual(failed(result.checks), ["tool lfs"]);
    assert.match(result.checks.get("tool lfs")!.detail, /"lfs" was not found on PATH/);
    assert.match(result.checks.get("tool lfs")!.fix!, /--path-env/);
  });
});

Deno.test("doctor fails a missing kubelet dir and a socket that does not answer", async () => {
  await withSim(async (sim, dir) => {
    const result = await doctor([
      "--path-env",
      sim.pathEnv,
      "--kubelet-dir",
      `${dir}/no-kubelet`,
      "--endpoint",
      `unix://${dir}/no.sock`,
    ]);
    assert.equal(result.code, 1);
    assert.deepEqual(failed(result.checks), ["kubelet dir", "csi socket"]);
    assert.match(result.checks.get("csi socket")!.detail, /no\.sock does not exist/);
  });
});

Deno.test("doctor passes the socket check against a running, ready driver", async () => {
  await withSim(async (sim, dir) => {
    await using driver = await startDriver({
      dir: `${dir}/driver`,
      args: ["--path-env", sim.pathEnv, "--kubelet-dir", dir],
    });
    const args = ["--path-env", sim.pathEnv, "--kubelet-dir", dir, "--endpoint"];
    const result = await doctor([...args, `unix://${driver.socketPath}`]);
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.checks.get("csi socket")!.detail, /answered Probe: ready$/);
  });
});

Deno.test("doctor with no Lustre tools on the PATH blames the missing tools, not modules or LNet", async () => {
  await using dir = await tempDir("klustre-doctor-");
  const empty = `${dir.path}/empty-bin`;
  await Deno.mkdir(empty);
  for (const pathEnv of [empty, ""]) {
    const result = await doctor(["--path-env", pathEnv, "--kubelet-dir", dir.path, ...SOURCES]);
    assert.equal(result.code, 1, result.stdout);
    assert.deepEqual(failed(result.checks), ["tool mount.lustre", "tool lfs", "tool lctl"]);
    assert.match(result.checks.get("tool lctl")!.detail, /^missing: "lctl" was not found on PATH/);
    assert.deepEqual(skipped(result.checks), [
      "host loader",
      "lustre modules",
      "lnet nids",
      "mgs 10.0.0.1@tcp (fs1, fs2)",
      "mgs 10.0.0.2@tcp (fs1)",
    ]);
    assert.match(result.checks.get("lustre modules")!.detail, /^needs lctl: missing: "lctl"/);
    assert.doesNotMatch(result.stdout, /modprobe|LNet is not running|not loaded/);
  }
});

Deno.test("doctor exits 2 on a bad --source", async () => {
  const result = await doctor(["--source", "10.0.0.1@tcp/fs1"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Invalid --source "10\.0\.0\.1@tcp\/fs1"/);
});
