import assert from "node:assert/strict";
import { formatLustreSource, parseLustreSource, parseSubdir } from "./source.ts";

Deno.test("parseLustreSource() canonicalises NIDs and keeps failover and subdir", () => {
  const cases: [string, string, string, string][] = [
    ["10.0.0.1@tcp0:/lustre-fs", "10.0.0.1@tcp:/lustre-fs", "lustre-fs", "/"],
    ["10.0.0.1@tcp:/fs1/a/b/", "10.0.0.1@tcp:/fs1", "fs1", "/a/b"],
    [
      "mgs1@tcp0,mgs1ib@o2ib0:mgs2@tcp0,mgs2ib@o2ib0:/testfs",
      "mgs1@tcp,mgs1ib@o2ib:mgs2@tcp,mgs2ib@o2ib:/testfs",
      "testfs",
      "/",
    ],
    [
      "192.168.255.3@o2ib1:192.168.255.4@o2ib1:/bwlfs1",
      "192.168.255.3@o2ib1:192.168.255.4@o2ib1:/bwlfs1",
      "bwlfs1",
      "/",
    ],
  ];
  for (const [text, fsSource, fsName, subdir] of cases) {
    const source = parseLustreSource(text);
    assert.equal(source.fsSource, fsSource, text);
    assert.equal(source.fsName, fsName, text);
    assert.equal(source.subdir, subdir, text);
  }
  assert.equal(
    formatLustreSource(parseLustreSource("10.0.0.1@tcp0:/fs1/x")),
    "10.0.0.1@tcp:/fs1/x",
  );
});

Deno.test("parseLustreSource() refuses malformed sources, saying why", () => {
  const bad: [string, RegExp][] = [
    ["", /MGSNID/],
    ["/dev/sda1", /MGSNID/],
    ["10.0.0.1:/fs1", /ADDRESS@NETWORK/],
    ["10.0.0.1@udp:/fs1", /unknown network type/],
    ["10.0.0.1@tcp:/", /file system name/],
    ["10.0.0.1@tcp:/fs1/../etc", /"\.\."/],
    ["10.0.0.1@tcp:/fs1//a", /""/],
    ["10.0.0.1@tcp::/fs1", /empty MGS node/],
    ["bad_host!@tcp:/fs1", /neither IPv4 nor a host name/],
    ["10.0.0.1@tcp:/fs;rm", /file system name/],
  ];
  for (const [text, pattern] of bad) assert.throws(() => parseLustreSource(text), pattern, text);
});

Deno.test("parseSubdir() refuses absolute paths and parent segments", () => {
  assert.equal(parseSubdir("a/b"), "/a/b");
  assert.equal(parseSubdir("a/"), "/a");
  assert.throws(() => parseSubdir("/a"), /absolute/);
  assert.throws(() => parseSubdir("a/../../b"), /"\.\."/);
  assert.throws(() => parseSubdir("a\nb"), /control character/);
});
