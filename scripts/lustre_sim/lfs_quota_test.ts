import assert from "node:assert/strict";
import { formatRow } from "./lfs_quota.ts";

const LIMITS = { bsoft: 0, bhard: 1048576, isoft: 0, ihard: 0 };

Deno.test("formatRow() prints the 2.15 quota row", () => {
  assert.equal(
    formatRow("/mnt/lustre", { kbytes: 4, inodes: 1 }, LIMITS, false),
    "    /mnt/lustre       4       0 1048576       -       1       0       0       -",
  );
  assert.equal(
    formatRow("/a/very/long/mount", { kbytes: 4, inodes: 1 }, LIMITS, false),
    "/a/very/long/mount\n                      4       0 1048576       -       1       0       0       -",
  );
  assert.match(
    formatRow("/m", { kbytes: 1048576, inodes: 1 }, LIMITS, true),
    /^ +\/m +1G\* +0k +1G +- +1 /,
  );
});
