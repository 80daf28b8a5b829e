import assert from "node:assert/strict";
import { PccPurger } from "./pcc_purge.ts";
import { FakeLogger } from "../fake_logger.ts";
import type { PccRecord } from "./pcc_attach.ts";
import { localCacheDirs } from "./pcc_cache_dir.ts";
import type { Mounter } from "../mount/mounter.ts";

const FAKE_MOUNTER = { mountInfo: () => Promise.resolve([]) } as unknown as Mounter;

const SPEC = { cache: "", rule: "", highUsage: 80, lowUsage: 50, intervalS: 1 };

Deno.test("PccPurger.purge() detaches least recently used copies until under the low watermark, only above the high one", async () => {
  const cache = await Deno.makeTempDir({ prefix: "klustre-purge-" });
  try {
    const fids = ["0x200000401:0x1:0x0", "0x200000401:0x2:0x0", "0x200000401:0x3:0x0"];
    // Access order (atime): 2 oldest, then 1, then 3.
    for (const [i, fid] of fids.entries()) {
      await Deno.mkdir(`${cache}/0001`, { recursive: true });
      await Deno.writeTextFile(`${cache}/0001/${fid}`, "x".repeat(10));
      await Deno.utime(`${cache}/0001/${fid}`, [2, 1, 3][i], 0);
    }
    let used = 90;
    const calls: string[] = [];
    const purged: number[] = [];
    const purger = new PccPurger({
      logger: new FakeLogger(),
      records: () => Promise.resolve([]),
      run: async (_command, args) => {
        calls.push(args.join(" "));
        await Deno.remove(`${cache}/0001/${args[3]}`);
        used -= 25;
        return { code: 0, stdout: "", stderr: "", durationMs: 0 };
      },
      mountPath: (mount) => `/keeper${mount}`,
      cacheDirs: { ...localCacheDirs(FAKE_MOUNTER), usedPercent: () => Promise.resolve(used) },
      metrics: { cacheScanned: () => {}, purged: (_c, n) => purged.push(n) },
    });
    const record: PccRecord = {
      volumeId: "v",
      mount: "/m",
      cache,
      rule: "",
      spec: { ...SPEC, cache },
    };
    assert.equal(await purger.purge(cache, [record]), 2);
    assert.deepEqual(calls, [
      "pcc detach_fid /keeper/m 0x200000401:0x2:0x0",
      "pcc detach_fid /keeper/m 0x200000401:0x1:0x0",
    ]);
    assert.deepEqual(purged, [2]);
    assert.equal(await purger.purge(cache, [record]), 0, "40% is under the high watermark");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
