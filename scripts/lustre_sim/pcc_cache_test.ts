import assert from "node:assert/strict";
import { cachePath, parseFid, ruleMatches } from "./pcc_cache.ts";

Deno.test("ruleMatches() evaluates & as AND and , as OR over fname, uid, gid and projid", () => {
  const file = { name: "data.h5", uid: 1001, gid: 100, projid: 500 };
  assert.equal(ruleMatches("fname={*.h5}", file), true);
  assert.equal(ruleMatches("fname={*.h5}&projid={600}", file), false);
  assert.equal(ruleMatches("fname={*.h5}&projid={600},uid={1001}", file), true);
  assert.equal(ruleMatches("projid={400 500}&gid={100}", file), true);
  assert.equal(ruleMatches("fname={*.txt *.csv}", file), false);
  const big = { ...file, size: 5 * 2 ** 20 };
  assert.equal(ruleMatches("size>{1M}&size<{500G}", big), true);
  assert.equal(ruleMatches("projid>{400}&projid<{450}", big), false);
  assert.equal(ruleMatches("uid<{1500}&uid>{1000}", big), true);
});

Deno.test("cachePath() lays copies out like the kernel's FID hash directories", () => {
  assert.equal(
    cachePath("/mnt/pcc", "0x200000bd1:0x4:0x0"),
    "/mnt/pcc/0004/0000/0bd1/0000/0002/0000/0x200000bd1:0x4:0x0",
  );
  assert.deepEqual(parseFid("[0x200000401:0x1a:0x0]"), { seq: 0x200000401, oid: 0x1a });
  assert.equal(parseFid("not-a-fid"), null);
});
