import assert from "node:assert/strict";
import { type DoctorCommandDeps, runDoctorCommand } from "./doctor_command.ts";
import { FakeRunner } from "../exec/fake_runner.ts";

const HEALTHY: Record<string, string> = {
  "mount.lustre -V": "mount.lustre 2.15.6 (libmount)",
  "lfs --version": "lfs 2.15.6",
  "lctl --version": "lctl 2.15.6",
  "lctl get_param -n version": "2.15.6",
  "lctl list_nids": "10.0.0.100@tcp",
};

/** Deps over a fake runner; `out` collects stdout and stderr. */
function fakeDeps(options: {
  runner?: FakeRunner;
  env?: Record<string, string>;
  socketExists?: boolean;
  ready?: boolean;
}) {
  const out = { stdout: "", stderr: "", runnerPaths: [] as unknown[], probed: [] as string[] };
  const runner = options.runner ?? new FakeRunner((command, args) => {
    const key = [command, ...args].join(" ");
    if (key in HEALTHY) return { stdout: `${HEALTHY[key]}\n` };
    if (args[0] === "ping") return { stdout: `12345-${args[1]}\n` };
    return { code: 1, stderr: `unexpected ${key}` };
  });
  const deps: DoctorCommandDeps = {
    env: options.env ?? {},
    readTextFile: () => {
      throw new Deno.errors.NotFound("no settings");
    },
    newRunner: (paths) => {
      out.runnerPaths.push(paths);
      return runner;
    },
    isDirectory: (path) => Promise.resolve(path === "/var/lib/kubelet"),
    exists: () => Promise.resolve(options.socketExists ?? false),
    probe: (endpoint) => {
      out.probed.push(endpoint);
      return Promise.resolve(options.ready ?? true);
    },
    stdout: (text) => out.stdout += text,
    stderr: (text) => out.stderr += text,
  };
  return { deps, out, runner };
}

Deno.test("runDoctorCommand() passes a healthy node and exits 0", async () => {
  const { deps, out } = fakeDeps({});
  const code = await runDoctorCommand(["--source", "10.0.0.1@tcp:10.0.0.2@tcp:/fs1"], deps);
  assert.equal(code, 0, out.stdout);
  assert.deepEqual(out.stdout.split("\n").filter((l) => l), [
    "PASS tool mount.lustre: version 2.15.6",
    "PASS tool lfs: version 2.15.6",
    "PASS tool lctl: version 2.15.6",
    "PASS lustre modules: loaded, client version 2.15.6",
    "PASS lnet nids: 10.0.0.100@tcp",
    "PASS mgs 10.0.0.1@tcp (fs1): 10.0.0.1@tcp answered lctl ping in 0 ms",
    "PASS mgs 10.0.0.2@tcp (fs1): 10.0.0.2@tcp answered lctl ping in 0 ms",
    "PASS kubelet dir: /var/lib/kubelet exists",
  ]);
  assert.deepEqual(out.probed, [], "no socket: not given and the default does not exist");
});

Deno.test("runDoctorCommand() exits 1 and prints a fix when a check fails", async () => {
  const { deps, out } = fakeDeps({});
  const code = await runDoctorCommand(["--kubelet-dir", "/srv/kubelet"], deps);
  assert.equal(code, 1);
  assert.match(out.stdout, /FAIL kubelet dir: \/srv\/kubelet is not a directory\n {2}fix: /);
});

Deno.test("runDoctorCommand() probes the socket when --endpoint is given or the default exists", async () => {
  const given = fakeDeps({ ready: false, socketExists: true });
  assert.equal(await runDoctorCommand(["--endpoint", "unix:///tmp/x.sock"], given.deps), 1);
  assert.deepEqual(given.out.probed, ["unix:///tmp/x.sock"]);
  assert.match(
    given.out.stdout,
    /FAIL csi socket: unix:\/\/\/tmp\/x\.sock answered Probe: not ready/,
  );
  const missing = fakeDeps({});
  assert.equal(await runDoctorCommand(["--endpoint", "unix:///tmp/x.sock"], missing.deps), 1);
  assert.match(
    missing.out.stdout,
    /did not answer Probe: the socket \/tmp\/x\.sock does not exist/,
  );
  assert.deepEqual(missing.out.probed, []);
  const existing = fakeDeps({ socketExists: true });
  assert.equal(await runDoctorCommand([], existing.deps), 0);
  assert.deepEqual(existing.out.probed, ["unix:///csi/csi.sock"]);
});

Deno.test("runDoctorCommand() runs the tools with the configured PATH and limit", async () => {
  const { deps, out, runner } = fakeDeps({});
  const env = { KLUSTRE_LD_LIBRARY_PATH: "/host/lib" };
  await runDoctorCommand(["--path-env", "/opt/lustre/sbin", "--timeout-ms", "3000"], {
    ...deps,
    env,
  });
  assert.deepEqual(out.runnerPaths.map((p) => (p as { pathEnv: string }).pathEnv), [
    "/opt/lustre/sbin",
  ]);
  assert.deepEqual(out.runnerPaths.map((p) => (p as { ldLibraryPath: string }).ldLibraryPath), [
    "/host/lib",
  ]);
  assert.ok(runner.calls.every((c) => c.timeoutMs === 3000));
});

Deno.test("runDoctorCommand() refuses bad flags, sources and limits with exit 2", async () => {
  const cases = [
    ["--bogus"],
    ["--source", "not-a-source"],
    ["--timeout-ms", "0"],
    ["--kubelet-dir", "relative"],
  ];
  for (const args of cases) {
    const { deps, out } = fakeDeps({});
    assert.equal(await runDoctorCommand(args, deps), 2, args.join(" "));
    assert.match(out.stderr, /^klustre-csi doctor: /);
    assert.equal(out.stdout, "");
  }
});

Deno.test("runDoctorCommand() prints its help with --help", async () => {
  const { deps, out } = fakeDeps({});
  assert.equal(await runDoctorCommand(["--help"], deps), 0);
  assert.match(out.stdout, /^Usage: klustre-csi doctor/);
});
