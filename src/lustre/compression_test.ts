import assert from "node:assert/strict";
import {
  checkCompression,
  checkCompressionChunk,
  compressionArgs,
  compressionRefusal,
} from "./compression.ts";

Deno.test("checkCompression() takes TYPE[:LEVEL] of lfs setstripe --compress and refuses the rest", () => {
  for (const ok of ["lz4:3", "zstd", "gzip:9", "none", "lz4hc:15"]) checkCompression(ok);
  assert.throws(() => checkCompression("brotli"), /TYPE one of none, gzip, lz4/);
  assert.throws(() => checkCompression("lz4:16"), /level must be 0 to 15/);
  assert.throws(() => checkCompression("LZ4"), /TYPE\[:LEVEL\]/);
});

Deno.test("checkCompressionChunk() wants a power of two from 64K to 2G", () => {
  for (const ok of ["64K", "1M", "4m", "2G"]) checkCompressionChunk(ok);
  for (const bad of ["32K", "3M", "4G", "1048576", "1.5M"]) {
    assert.throws(() => checkCompressionChunk(bad), /power of two/, bad);
  }
});

Deno.test("compressionArgs() and compressionRefusal() name the option and the version", () => {
  assert.deepEqual(compressionArgs("lz4:3", "1M"), [
    "--compress",
    "lz4:3",
    "--compress-chunk",
    "1M",
  ]);
  assert.deepEqual(compressionArgs("zstd"), ["--compress", "zstd"]);
  assert.equal(compressionRefusal("lz4", "2.17.0"), undefined);
  assert.match(compressionRefusal("lz4", "2.16.1")!, /from 2\.17\.0; this client is 2\.16\.1$/);
  assert.match(compressionRefusal("lz4", "")!, /this client is of unknown version$/);
});
