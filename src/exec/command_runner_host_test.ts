/**
 * SystemRunner with `hostLoader: "auto"`: host tools start with the loader,
 * libc and library dirs found inside the host root, also when the host's
 * symlinks are absolute (Debian, Ubuntu), and really run that way.
 */
import assert from "node:assert/strict";
import { SystemRunner } from "./command_runner.ts";
import { findHostLoader, LOADER_CANDIDATES } from "./host_loader.ts";
import { DEBIAN, type TreeEntry, withTree } from "./_host_tree.ts";

const LOADER_SCRIPT = '#!/bin/sh\necho "loader $*"\n';

/** Debian's layout whose loader is a script printing its arguments, and an executable tool. */
const DEBIAN_ECHO: Record<string, TreeEntry> = {
  ...DEBIAN,
  "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": LOADER_SCRIPT,
  "usr/sbin/mount.lustre": "#!/bin/sh\necho plain\n",
};

async function makeExecutable(root: string, paths: readonly string[]) {
  for (const path of paths) await Deno.chmod(`${root}/${path}`, 0o755);
}

/** ldLibraryPath as the default has it: the image's dirs first, then the host root's. */
function libraryPathSetting(root: string): string {
  return [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    ...["lib64", "usr/lib64", "lib", "usr/lib", "lib/x86_64-linux-gnu"].map((d) => `${root}/${d}`),
    `${root}/usr/lib/x86_64-linux-gnu`,
  ].join(":");
}

Deno.test("SystemRunner.run() with hostLoader auto starts host tools with the host root's loader and libs only", async () => {
  await withTree(DEBIAN_ECHO, async (root) => {
    await makeExecutable(root, [
      "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
      "usr/sbin/mount.lustre",
    ]);
    const runner = new SystemRunner({
      pathEnv: `${root}/usr/sbin`,
      ldLibraryPath: libraryPathSetting(root),
      hostLoader: "auto",
      hostRoot: root,
      arch: "x86_64",
    });
    const libraryPath = [
      `${root}/lib/x86_64-linux-gnu`,
      `${root}/lib64`,
      `${root}/lib`,
      `${root}/usr/lib`,
      `${root}/usr/lib/x86_64-linux-gnu`,
    ];
    const { stdout } = await runner.run("mount.lustre", ["-V"], { timeoutMs: 5000 });
    assert.equal(
      stdout.trim(),
      `loader --library-path ${libraryPath.join(":")} ${root}/usr/sbin/mount.lustre -V`,
    );
    assert.deepEqual(await runner.describe("mount.lustre"), {
      kind: "loader",
      program: `${root}/usr/sbin/mount.lustre`,
      loader: `${root}/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`,
      libraryPath,
      hostRoot: root,
      libc: `${root}/lib/x86_64-linux-gnu/libc.so.6`,
    });
  });
});

Deno.test("SystemRunner.run() with hostLoader auto finds a tool behind the host's absolute symlink", async () => {
  const tree: Record<string, TreeEntry> = {
    ...DEBIAN_ECHO,
    "sbin/lctl": { link: "/usr/sbin/lctl.real" },
    "usr/sbin/lctl.real": "#!/bin/sh\necho plain\n",
  };
  await withTree(tree, async (root) => {
    await makeExecutable(root, ["lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "usr/sbin/lctl.real"]);
    const runner = new SystemRunner({
      pathEnv: `${root}/sbin`,
      ldLibraryPath: "",
      hostLoader: "auto",
      hostRoot: root,
      arch: "x86_64",
    });
    const { stdout } = await runner.run("lctl", [], { timeoutMs: 5000 });
    assert.equal(
      stdout.trim(),
      `loader --library-path ${root}/lib/x86_64-linux-gnu ${root}/usr/sbin/lctl.real`,
    );
  });
});

Deno.test("SystemRunner.run() with hostLoader auto execs tools outside the host root, or all when it has no loader", async () => {
  await withTree({ "usr/sbin/mount.lustre": "#!/bin/sh\necho plain\n" }, async (root) => {
    await makeExecutable(root, ["usr/sbin/mount.lustre"]);
    const runner = new SystemRunner({
      pathEnv: `${root}/usr/sbin`,
      ldLibraryPath: "",
      hostLoader: "auto",
      hostRoot: root,
      arch: "x86_64",
    });
    assert.equal((await runner.run("mount.lustre", [], { timeoutMs: 5000 })).stdout, "plain\n");
    const launch = await runner.describe("mount.lustre");
    assert.equal(launch.kind === "exec" && launch.reason, "no-host-loader");
    assert.match(launch.kind === "exec" && launch.problem || "", /^No glibc loader inside /);
    const elsewhere = new SystemRunner({
      pathEnv: `${root}/usr/sbin`,
      ldLibraryPath: "",
      hostLoader: "auto",
      hostRoot: `${root}/usr/lib`,
    });
    assert.deepEqual(await elsewhere.describe("mount.lustre"), {
      kind: "exec",
      program: `${root}/usr/sbin/mount.lustre`,
      reason: "outside-host-root",
    });
  });
});

Deno.test("SystemRunner.run() really runs an ELF through the loader and libc inside a Debian-like host tree", async () => {
  // This machine's own loader and libc, copied into a tree whose loader symlink is
  // absolute and names a dir the machine does not have: only in-root resolution finds it.
  const real = await findHostLoader({
    hostRoot: "/",
    arch: Deno.build.arch,
    libraryDirs: ["lib64", "usr/lib64", "lib", "usr/lib", `lib/${Deno.build.arch}-linux-gnu`],
  });
  const candidate = LOADER_CANDIDATES[Deno.build.arch][0];
  const loaderName = candidate.slice(candidate.lastIndexOf("/") + 1);
  const tree: Record<string, TreeEntry> = {
    [candidate]: { link: `/lib/klustre-test-gnu/${loaderName}` },
    "lib/klustre-test-gnu/libc.so.6": "",
    "usr/bin/cat": "",
  };
  await withTree(tree, async (root) => {
    await Deno.copyFile(real.loader, `${root}/lib/klustre-test-gnu/${loaderName}`);
    await Deno.copyFile(real.libc, `${root}/lib/klustre-test-gnu/libc.so.6`);
    await Deno.copyFile("/usr/bin/cat", `${root}/usr/bin/cat`);
    const runner = new SystemRunner({
      pathEnv: `${root}/usr/bin`,
      ldLibraryPath: `/lib/${Deno.build.arch}-linux-gnu:${root}/lib`,
      hostLoader: "auto",
      hostRoot: root,
    });
    const launch = await runner.describe("cat");
    assert.equal(
      launch.kind === "loader" && launch.loader,
      `${root}/lib/klustre-test-gnu/${loaderName}`,
    );
    const { code, stdout } = await runner.run("cat", ["/proc/self/maps"], { timeoutMs: 20_000 });
    assert.equal(code, 0);
    const mapped = new Set(
      stdout.split("\n").map((line) => line.split(/\s+/)[5] ?? "").filter((f) => f.startsWith("/")),
    );
    assert.ok(mapped.has(`${root}/lib/klustre-test-gnu/${loaderName}`), [...mapped].join("\n"));
    assert.ok(mapped.has(`${root}/lib/klustre-test-gnu/libc.so.6`), [...mapped].join("\n"));
    assert.ok(mapped.has(`${root}/usr/bin/cat`), [...mapped].join("\n"));
    assert.ok(!mapped.has(real.loader) && !mapped.has(real.libc), "nothing of the image's glibc");
  });
});
