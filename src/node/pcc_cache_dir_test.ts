import assert from "node:assert/strict";
import { keeperCacheDirs, localCacheDirs } from "./pcc_cache_dir.ts";
import type { MountKeeper } from "../mount/mount_namespace.ts";
import type { Mounter } from "../mount/mounter.ts";

/** A keeper whose `run` runs the host tool here (the keeper's view is the host's). */
const HERE = {
  mountInfo: () => Promise.resolve([]),
  async run(command: string, args: readonly string[]) {
    const out = await new Deno.Command(command, {
      args: [...args],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const text = new TextDecoder();
    return {
      code: out.code,
      stdout: text.decode(out.stdout),
      stderr: text.decode(out.stderr),
      durationMs: 0,
    };
  },
} as unknown as MountKeeper;

Deno.test("keeperCacheDirs() reads the cache with host tools like localCacheDirs() reads it directly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "klustre-cache-" });
  try {
    await Deno.mkdir(`${dir}/0004/0000`, { recursive: true });
    await Deno.writeTextFile(`${dir}/0004/0000/0x200000bd1:0x4:0x0`, "12345");
    await Deno.utime(`${dir}/0004/0000/0x200000bd1:0x4:0x0`, 1000, 1000);
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a copy");
    const local = localCacheDirs({ mountInfo: () => Promise.resolve([]) } as unknown as Mounter);
    const viaKeeper = keeperCacheDirs(HERE, 10_000);
    for (const dirs of [local, viaKeeper]) {
      assert.equal(await dirs.realDirectory(dir), await Deno.realPath(dir));
      await assert.rejects(dirs.realDirectory(`${dir}/notes.txt`), /not a directory/);
      await assert.rejects(dirs.realDirectory(`${dir}/missing`));
      assert.deepEqual(await dirs.scan(dir), [{
        path: `${dir}/0004/0000/0x200000bd1:0x4:0x0`,
        fid: "0x200000bd1:0x4:0x0",
        size: 5,
        atimeMs: 1_000_000,
      }]);
      const used = await dirs.usedPercent(dir);
      assert.ok(used >= 0 && used <= 100, String(used));
      assert.equal(await dirs.exists(`${dir}/notes.txt`), true);
      assert.equal(await dirs.exists(`${dir}/gone`), false);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
