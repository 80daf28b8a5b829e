import assert from "node:assert/strict";
import { type PvCommandDeps, runPvCommand } from "./pv_command.ts";

const INVENTORY = `
fileSystems: [{ name: fs1, source: "10.0.0.1@tcp:/fs1" }]
volumes: [{ name: pv-a, fs: fs1, capacity: 1Gi, namespace: default }]
`;

function fakeDeps(files: Record<string, string>) {
  const out = { stdout: "", stderr: "", written: {} as Record<string, string> };
  const deps: PvCommandDeps = {
    readTextFile: (path) =>
      path in files
        ? Promise.resolve(files[path])
        : Promise.reject(new Deno.errors.NotFound(`No such file: ${path}`)),
    writeTextFile: (path, text) => {
      if (path.startsWith("/ro/")) return Promise.reject(new Deno.errors.PermissionDenied("ro"));
      out.written[path] = text;
      return Promise.resolve();
    },
    stdout: (text) => out.stdout += text,
    stderr: (text) => out.stderr += text,
  };
  return { deps, out };
}

Deno.test("runPvCommand() writes the manifests to stdout by default and to --output FILE", async () => {
  const toStdout = fakeDeps({ "inv.yaml": INVENTORY });
  assert.equal(await runPvCommand(["--inventory", "inv.yaml"], toStdout.deps), 0);
  assert.match(toStdout.out.stdout, /kind: PersistentVolume\n/);
  const toFile = fakeDeps({ "inv.yaml": INVENTORY });
  assert.equal(
    await runPvCommand(["--inventory", "inv.yaml", "--output", "out.yaml"], toFile.deps),
    0,
  );
  assert.equal(toFile.out.stdout, "");
  assert.match(toFile.out.written["out.yaml"], /kind: PersistentVolumeClaim\n/);
});

Deno.test("runPvCommand() exits 2 listing every problem of a bad inventory", async () => {
  const bad = INVENTORY.replace("capacity: 1Gi", "capacity: lots").replace("fs: fs1", "fs: fs9");
  const { deps, out } = fakeDeps({ "inv.yaml": bad });
  assert.equal(await runPvCommand(["--inventory", "inv.yaml"], deps), 2);
  assert.equal(out.stdout, "");
  assert.match(out.stderr, /Cannot use inventory "inv\.yaml": 2 problem\(s\):\n/);
  assert.match(out.stderr, / {2}volumes\[0\] "pv-a": fs: "fs9"/);
  assert.match(out.stderr, / {2}volumes\[0\] "pv-a": capacity: "lots"/);
});

Deno.test("runPvCommand() exits 2 on bad usage and 1 when a file cannot be read or written", async () => {
  const cases: [string[], number, RegExp][] = [
    [[], 2, /--inventory FILE is required/],
    [["--inventory"], 2, /Cannot parse flags/],
    [["--inventory", "inv.yaml", "extra"], 2, /Cannot parse flags/],
    [["--inventory", "missing.yaml"], 1, /Cannot read inventory "missing\.yaml"/],
    [["--inventory", "inv.yaml", "--output", "/ro/x.yaml"], 1, /Cannot write "\/ro\/x\.yaml"/],
  ];
  for (const [args, code, message] of cases) {
    const { deps, out } = fakeDeps({ "inv.yaml": INVENTORY });
    assert.equal(await runPvCommand(args, deps), code, args.join(" "));
    assert.match(out.stderr, message);
  }
});

Deno.test("runPvCommand() prints its help with --help", async () => {
  const { deps, out } = fakeDeps({});
  assert.equal(await runPvCommand(["--help"], deps), 0);
  assert.match(out.stdout, /^Usage: klustre-csi pv --inventory FILE/);
});
