import assert from "node:assert/strict";
import { findHostLoader, type HostLoader, HostLoaderNotFoundError } from "./host_loader.ts";
import {
  DEBIAN,
  DEBIAN_ARM64,
  RHEL,
  RHEL_SPLIT,
  type TreeEntry,
  UBUNTU_USRMERGE,
  withTree,
} from "./_host_tree.ts";

/** The library dirs of the default ldLibraryPath, relative to the host root. */
const LIBRARY_DIRS = [
  "lib64",
  "usr/lib64",
  "lib",
  "usr/lib",
  "lib/x86_64-linux-gnu",
  "usr/lib/x86_64-linux-gnu",
  "lib/aarch64-linux-gnu",
  "usr/lib/aarch64-linux-gnu",
];

/** Every path of the result lies inside the tree, so none is the image's. */
function assertInside(root: string, found: HostLoader) {
  for (const path of [found.loader, found.libc, ...found.libraryPath]) {
    assert.ok(path.startsWith(`${root}/`), `${path} is inside ${root}`);
  }
}

async function find(layout: Readonly<Record<string, TreeEntry>>, arch = "x86_64") {
  let result: { root: string; found: HostLoader } | undefined;
  await withTree(layout, async (root) => {
    result = {
      root,
      found: await findHostLoader({ hostRoot: root, arch, libraryDirs: LIBRARY_DIRS }),
    };
    assertInside(root, result.found);
    assert.equal(await Deno.readTextFile(result.found.loader), "host loader");
    assert.equal(await Deno.readTextFile(result.found.libc), "host libc");
  });
  return result!;
}

Deno.test("findHostLoader() finds Debian's loader and libc in the tree, not the image's", async () => {
  const { root, found } = await find(DEBIAN);
  assert.deepEqual(found, {
    loader: `${root}/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`,
    libc: `${root}/lib/x86_64-linux-gnu/libc.so.6`,
    libraryPath: [
      `${root}/lib/x86_64-linux-gnu`,
      `${root}/lib64`,
      `${root}/lib`,
      `${root}/usr/lib`,
      `${root}/usr/lib/x86_64-linux-gnu`,
    ],
  });
});

Deno.test("findHostLoader() resolves usrmerge library dirs once each, under /usr", async () => {
  const { root, found } = await find(UBUNTU_USRMERGE);
  assert.deepEqual(found, {
    loader: `${root}/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`,
    libc: `${root}/usr/lib/x86_64-linux-gnu/libc.so.6`,
    libraryPath: [`${root}/usr/lib/x86_64-linux-gnu`, `${root}/usr/lib64`, `${root}/usr/lib`],
  });
});

Deno.test("findHostLoader() follows RHEL's relative loader and libc symlinks in lib64", async () => {
  const rhel = await find(RHEL);
  assert.deepEqual(rhel.found, {
    loader: `${rhel.root}/usr/lib64/ld-2.28.so`,
    libc: `${rhel.root}/usr/lib64/libc-2.28.so`,
    libraryPath: [`${rhel.root}/usr/lib64`, `${rhel.root}/usr/lib`],
  });
  const split = await find(RHEL_SPLIT);
  assert.deepEqual(split.found, {
    loader: `${split.root}/usr/lib64/ld-2.17.so`,
    libc: `${split.root}/usr/lib64/libc-2.17.so`,
    libraryPath: [`${split.root}/usr/lib64`, `${split.root}/lib64`],
  });
});

Deno.test("findHostLoader() picks the loader of the architecture", async () => {
  const { root, found } = await find(DEBIAN_ARM64, "aarch64");
  assert.equal(found.loader, `${root}/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1`);
  await withTree(DEBIAN_ARM64, async (root) => {
    await assert.rejects(
      findHostLoader({ hostRoot: root, arch: "x86_64", libraryDirs: LIBRARY_DIRS }),
      HostLoaderNotFoundError,
    );
  });
});

Deno.test("findHostLoader() never falls through to the image's loader or /etc", async () => {
  // The targets exist on this machine (the "image") but not in the tree.
  const tree: Record<string, TreeEntry> = {
    "lib64/ld-linux-x86-64.so.2": { link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
    "usr/lib64/ld-linux-x86-64.so.2": { link: "/../../../../usr/lib64/ld-linux-x86-64.so.2" },
    "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": { link: "/../../etc/ld.so.cache" },
    "usr/lib/x86_64-linux-gnu": { dir: true },
  };
  await withTree(tree, async (root) => {
    const error = await findHostLoader({ hostRoot: root, arch: "x86_64", libraryDirs: [] })
      .then(() => undefined, (e) => e);
    assert.ok(error instanceof HostLoaderNotFoundError, String(error));
    assert.equal(
      error.message,
      `No glibc loader inside "${root}": ` +
        `${root}/lib64/ld-linux-x86-64.so.2 (not found), ` +
        `${root}/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 (not found), ` +
        `${root}/usr/lib64/ld-linux-x86-64.so.2 (symlink loop), ` +
        `${root}/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 (not found)`,
    );
  });
});

Deno.test("findHostLoader() refuses a loader without a libc.so.6 on its library path", async () => {
  const tree: Record<string, TreeEntry> = {
    "lib64/ld-linux-x86-64.so.2": "host loader",
    "usr/lib64/libc.so.6": { link: "/lib/x86_64-linux-gnu/libc.so.6" },
  };
  await withTree(tree, async (root) => {
    await assert.rejects(
      findHostLoader({ hostRoot: root, arch: "x86_64", libraryDirs: ["usr/lib64"] }),
      new HostLoaderNotFoundError(
        `Found the host's loader ${root}/lib64/ld-linux-x86-64.so.2 but no libc.so.6 inside ` +
          `"${root}" on its library path ${root}/lib64:${root}/usr/lib64`,
      ),
    );
  });
});
