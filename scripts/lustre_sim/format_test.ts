import assert from "node:assert/strict";
import { cook, formatG, kbytesToString, parseSize } from "./format.ts";

Deno.test("formatG() prints like C %.4g", () => {
  assert.equal(formatG(500, 4), "500");
  assert.equal(formatG(1, 4), "1");
  assert.equal(formatG(1.5, 4), "1.5");
  assert.equal(formatG(1023.99, 4), "1024");
  assert.equal(formatG(2.34567, 4), "2.346");
});

Deno.test("kbytesToString() follows lfs quota -h", () => {
  assert.equal(kbytesToString(4, false), "4");
  assert.equal(kbytesToString(0, true), "0k");
  assert.equal(kbytesToString(4, true), "4k");
  assert.equal(kbytesToString(500 * 1024, true), "  500M");
  assert.equal(kbytesToString(1024 * 1024, true), "    1G");
  assert.equal(kbytesToString(1536 * 1024, true), "  1.5G");
});

Deno.test("cook() follows lfs df -h and -H", () => {
  assert.equal(cook(1 << 30, false), "  1024.0M");
  assert.equal(cook(2 ** 31, false), "     2.0G");
  assert.equal(cook(2_000_000, true), "     2.0M");
  assert.equal(cook(512, false), "512");
});

Deno.test("parseSize() reads lfs size arguments", () => {
  assert.equal(parseSize("10", 1024), 10240);
  assert.equal(parseSize("1g", 1024), 2 ** 30);
  assert.equal(parseSize("1.5M", 1024), 1.5 * 2 ** 20);
  assert.equal(parseSize("512b", 1024), 512);
  assert.equal(parseSize("x", 1024), null);
  assert.equal(parseSize("-1", 1024), null);
});
