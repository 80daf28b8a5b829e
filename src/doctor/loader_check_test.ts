import assert from "node:assert/strict";
import { checkToolLoader } from "./loader_check.ts";
import { formatReport } from "./check_result.ts";
import { SystemRunner, type ToolLaunch } from "../exec/command_runner.ts";
import { CommandNotFoundError } from "../exec/command_errors.ts";
import { DEBIAN, type TreeEntry, withTree } from "../exec/_host_tree.ts";

/** A runner of hostLoader "auto" over a host tree, as the node plugin has it at /host. */
function autoRunner(root: string) {
  return new SystemRunner({
    pathEnv: `${root}/usr/sbin:/usr/sbin`,
    ldLibraryPath: `/lib/x86_64-linux-gnu:${root}/lib64:${root}/usr/lib/x86_64-linux-gnu`,
    hostLoader: "auto",
    hostRoot: root,
    arch: "x86_64",
  });
}

Deno.test("checkToolLoader() names the host loader and libc resolved inside the host root", async () => {
  const tree: Record<string, TreeEntry> = { ...DEBIAN, "usr/sbin/mount.lustre": "#!/bin/sh\n" };
  await withTree(tree, async (root) => {
    await Deno.chmod(`${root}/usr/sbin/mount.lustre`, 0o755);
    const runner = autoRunner(root);
    const result = await checkToolLoader("mount.lustre", (tool) => runner.describe(tool));
    assert.equal(
      formatReport([result]),
      `PASS host loader: ${root}/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 (resolved inside ` +
        `${root}), libc ${root}/lib/x86_64-linux-gnu/libc.so.6, library path ` +
        `${root}/lib/x86_64-linux-gnu:${root}/lib64:${root}/usr/lib/x86_64-linux-gnu\n`,
    );
  });
});

Deno.test("checkToolLoader() fails with a fix when auto finds no loader inside the host root", async () => {
  const tree: Record<string, TreeEntry> = {
    // Only the image (this machine) has the target of the host's absolute symlink.
    "lib64/ld-linux-x86-64.so.2": { link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
    "usr/sbin/mount.lustre": "#!/bin/sh\n",
  };
  await withTree(tree, async (root) => {
    await Deno.chmod(`${root}/usr/sbin/mount.lustre`, 0o755);
    const runner = autoRunner(root);
    const result = await checkToolLoader("mount.lustre", (tool) => runner.describe(tool));
    assert.equal(result.ok, false);
    assert.match(
      result.detail,
      new RegExp(
        `^No glibc loader inside "${root}": ${root}/lib64/ld-linux-x86-64.so.2 \\(not found\\)`,
      ),
    );
    assert.match(result.detail, /would run with the image's loader$/);
    assert.match(result.fix!, /under \/host.*hostLoader \(--host-loader\)/);
  });
});

Deno.test("checkToolLoader() reports an explicit loader, none, tools outside the host root and missing tools", async () => {
  const check = (launch: ToolLaunch | Error) =>
    checkToolLoader(
      "lctl",
      () => launch instanceof Error ? Promise.reject(launch) : Promise.resolve(launch),
    );
  const explicit = await check({
    kind: "loader",
    program: "/host/sbin/lctl",
    loader: "/opt/ld.so",
    libraryPath: ["/host/lib64"],
  });
  assert.deepEqual([explicit.ok, explicit.detail], [
    true,
    "/opt/ld.so (setting hostLoader), library path /host/lib64",
  ]);
  const none = await check({ kind: "exec", program: "/host/sbin/lctl", reason: "none" });
  assert.match(
    none.detail,
    /^none \(setting hostLoader\): \/host\/sbin\/lctl runs with the image's loader/,
  );
  const outside = await check({ kind: "exec", program: "/sim/lctl", reason: "outside-host-root" });
  assert.deepEqual([outside.ok, outside.detail], [
    true,
    "not used: /sim/lctl lies outside the host root and is started as it is",
  ]);
  const missing = await check(new CommandNotFoundError("lctl", "/host/sbin"));
  assert.equal(missing.ok, false);
  assert.equal(missing.skipped, true);
  assert.match(missing.detail, /^needs lctl: "lctl" was not found/);
  const broken = await check(new Error("permission denied"));
  assert.equal(broken.skipped, undefined);
  assert.equal(broken.fix, 'fix "tool lctl" first');
});
