import assert from "node:assert/strict";
import { canonicalSource, DEFAULT_CONFIG, parseConfig } from "./state.ts";

Deno.test("parseConfig() fills defaults for a partial state file", () => {
  const c = parseConfig({ version: "2.15.8", fileSystems: [{ name: "scratch", size: "64m" }] });
  assert.equal(c.version, "2.15.8");
  assert.equal(c.modulesLoaded, true);
  assert.deepEqual(c.mgsNodes, DEFAULT_CONFIG.mgsNodes);
  assert.equal(c.fileSystems[0].size, "64m");
  assert.equal(c.fileSystems[0].inodes, 262144);
  assert.equal(canonicalSource(c, "scratch"), "10.0.0.1@tcp:/scratch");
});

Deno.test("parseConfig() rejects malformed fields", () => {
  const bad: unknown[] = [
    [],
    { version: "2.15" },
    { fileSystems: [] },
    { fileSystems: [{ name: "seventeen-chars-x" }] },
    { fileSystems: [{ name: "a" }, { name: "a" }] },
    { fileSystems: [{ name: "a", size: "1x" }] },
    { fileSystems: [{ name: "a", osts: 1, pools: { p: [3] } }] },
    { mgsNodes: [] },
  ];
  for (const input of bad) {
    assert.throws(() => parseConfig(input), TypeError, JSON.stringify(input));
  }
});
