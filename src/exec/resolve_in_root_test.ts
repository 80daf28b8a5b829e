import assert from "node:assert/strict";
import { MAX_SYMLINKS, pathUnderRoot, resolveInRoot, SymlinkLoopError } from "./resolve_in_root.ts";
import { DEBIAN, RHEL, UBUNTU_USRMERGE, withTree } from "./_host_tree.ts";

Deno.test("resolveInRoot() re-roots Debian's absolute loader symlink inside the tree", async () => {
  await withTree(DEBIAN, async (root) => {
    const resolved = await resolveInRoot(root, "/lib64/ld-linux-x86-64.so.2");
    assert.equal(resolved, `${root}/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`);
    assert.equal(await Deno.readTextFile(resolved), "host loader");
  });
});

Deno.test("resolveInRoot() follows usrmerge's relative /lib symlink, then an absolute one", async () => {
  await withTree(UBUNTU_USRMERGE, async (root) => {
    assert.equal(
      await resolveInRoot(root, "lib64/ld-linux-x86-64.so.2"),
      `${root}/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`,
    );
    assert.equal(
      await resolveInRoot(`${root}/`, "/sbin/mount.lustre"),
      `${root}/usr/sbin/mount.lustre`,
    );
  });
});

Deno.test("resolveInRoot() resolves RHEL's relative symlinks from the link's directory", async () => {
  await withTree(RHEL, async (root) => {
    assert.equal(
      await resolveInRoot(root, "/lib64/ld-linux-x86-64.so.2"),
      `${root}/usr/lib64/ld-2.28.so`,
    );
    assert.equal(
      await resolveInRoot(root, "/lib64/../lib64/libc.so.6"),
      `${root}/usr/lib64/libc-2.28.so`,
    );
  });
});

Deno.test("resolveInRoot() never climbs above the root, by '..' or by an escaping symlink", async () => {
  const tree = {
    "etc/marker": "tree's etc",
    "lib64/escape": { link: "/../../etc" },
    "lib64/climb": { link: "../../../../../../etc/marker" },
    "lib64/passwd": { link: "/../../../etc/passwd" },
  };
  await withTree(tree, async (root) => {
    assert.equal(await resolveInRoot(root, "/lib64/escape"), `${root}/etc`);
    assert.equal(await resolveInRoot(root, "/lib64/climb"), `${root}/etc/marker`);
    assert.equal(await resolveInRoot(root, "/../../../etc/marker"), `${root}/etc/marker`);
    assert.equal(await resolveInRoot(root, "/.."), root);
    // The machine's /etc/passwd exists, the tree's does not.
    await assert.rejects(resolveInRoot(root, "/lib64/passwd"), Deno.errors.NotFound);
  });
});

Deno.test("resolveInRoot() fails with ELOOP after following 40 symlinks", async () => {
  const chain: Record<string, { link: string }> = {};
  for (let i = 0; i < MAX_SYMLINKS; i++) chain[`l${i}`] = { link: `l${i + 1}` };
  const tree = { ...chain, [`l${MAX_SYMLINKS}`]: "end", "a": { link: "b" }, "b": { link: "/a" } };
  await withTree(tree, async (root) => {
    assert.equal(await resolveInRoot(root, "l0"), `${root}/l${MAX_SYMLINKS}`, "40 links are fine");
    await assert.rejects(resolveInRoot(root, "a"), (error: unknown) => {
      assert.ok(error instanceof SymlinkLoopError);
      assert.equal(error.code, "ELOOP");
      return true;
    });
    await Deno.symlink("l0", `${root}/extra`);
    await assert.rejects(resolveInRoot(root, "extra"), SymlinkLoopError);
  });
});

Deno.test("resolveInRoot() fails with NotFound for a missing component", async () => {
  await withTree(DEBIAN, async (root) => {
    await assert.rejects(
      resolveInRoot(root, "/lib/aarch64-linux-gnu/libc.so.6"),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("pathUnderRoot() gives the path inside the root, or undefined outside it", () => {
  assert.equal(pathUnderRoot("/host", "/host/usr/sbin/lctl"), "usr/sbin/lctl");
  assert.equal(pathUnderRoot("/host/", "/host/lib"), "lib");
  assert.equal(pathUnderRoot("/host", "/host"), "");
  assert.equal(pathUnderRoot("/host", "/hostile/lib"), undefined);
  assert.equal(pathUnderRoot("/host", "/lib/x86_64-linux-gnu"), undefined);
});
