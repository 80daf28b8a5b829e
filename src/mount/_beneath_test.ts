import assert from "node:assert/strict";
import { BENEATH_SYMBOLS, openBeneath, openTrusted } from "./_beneath.ts";

const ERRNO = { ENOENT: 2, EXDEV: 18, ENOTDIR: 20, ELOOP: 40 };

for (const useOpenat2 of [true, false]) {
  Deno.test(`openBeneath() opens only real directories below the root (${useOpenat2 ? "openat2" : "openat walk"})`, async () => {
    const libc = Deno.dlopen("libc.so.6", BENEATH_SYMBOLS);
    const dir = await Deno.makeTempDir({ prefix: "beneath-test-" });
    try {
      const root = `${dir}/root`;
      await Deno.mkdir(`${root}/a/b/c`, { recursive: true });
      await Deno.writeTextFile(`${root}/file`, "x");
      await Deno.symlink("/", `${root}/a/to-slash`);
      await Deno.symlink("b", `${root}/a/to-b`);
      await Deno.symlink(dir, `${root}/a/b/out`);
      const rootFd = openTrusted(libc.symbols, root);
      assert.ok(rootFd.fd >= 0);
      const open = (path: string) => {
        const opened = openBeneath(libc.symbols, rootFd.fd, path, { useOpenat2 });
        if (opened.fd < 0) return opened.errno;
        const real = Deno.readLinkSync(`/proc/self/fd/${opened.fd}`);
        libc.symbols.close(opened.fd);
        return real;
      };
      assert.equal(open("a/b/c"), `${root}/a/b/c`);
      assert.equal(open("/a/b/"), `${root}/a/b`, "leading and trailing slashes are fine");
      assert.equal(open(""), root, "the root itself");
      assert.equal(open("a/to-slash/etc"), ERRNO.ELOOP, "a symlink in the middle");
      assert.equal(open("a/to-b"), ERRNO.ELOOP, "a symlink at the end, even one staying inside");
      assert.equal(open("a/b/out"), ERRNO.ELOOP, "a symlink leading out");
      assert.equal(open("a/../a/b"), ERRNO.EXDEV, '".." is refused');
      assert.equal(open(".."), ERRNO.EXDEV);
      assert.equal(open("a/missing"), ERRNO.ENOENT);
      assert.equal(open("file"), ERRNO.ENOTDIR);
      assert.equal(open("file/x"), ERRNO.ENOTDIR);
      libc.symbols.close(rootFd.fd);
    } finally {
      libc.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
