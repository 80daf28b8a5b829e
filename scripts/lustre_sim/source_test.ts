import assert from "node:assert/strict";
import { canonicalNid, parseLustreSource, SourceSyntaxError } from "./source.ts";

Deno.test("canonicalNid() prints NIDs the way libcfs does", () => {
  const hosts = { mgs1: "10.0.0.1" };
  const cases: [string, string | null][] = [
    ["10.0.0.1@tcp", "10.0.0.1@tcp"],
    ["10.0.0.1@tcp0", "10.0.0.1@tcp"],
    ["10.0.0.1@tcp2", "10.0.0.1@tcp2"],
    ["192.168.1.5@o2ib0", "192.168.1.5@o2ib"],
    ["192.168.1.5@o2ib1", "192.168.1.5@o2ib1"],
    ["mgs1@tcp", "10.0.0.1@tcp"],
    ["0@lo", "0@lo"],
    ["unknown-host@tcp", null],
    ["10.0.0.256@tcp", null],
    ["10.0.0.1", null],
    ["@tcp", null],
  ];
  for (const [input, want] of cases) assert.equal(canonicalNid(input, hosts), want, input);
  assert.equal(canonicalNid("10.0.0.1@foo"), "unsupported");
});

Deno.test("parseLustreSource() splits failover nodes, NIDs, fsname and subdir", () => {
  const s = parseLustreSource("10.0.0.1@tcp0,10.1.0.1@o2ib:10.0.0.2@tcp:/fs1/a//b");
  assert.deepEqual(s.mgsNodes, [["10.0.0.1@tcp", "10.1.0.1@o2ib"], ["10.0.0.2@tcp"]]);
  assert.equal(s.fsname, "fs1");
  assert.equal(s.subdir, "a/b");
  assert.equal(s.canonical, "10.0.0.1@tcp,10.1.0.1@o2ib:10.0.0.2@tcp:/fs1/a/b");
  assert.equal(parseLustreSource("10.0.0.1@tcp:/fs1/").subdir, "");
});

Deno.test("parseLustreSource() rejects bad sources with mount.lustre's messages", () => {
  const cases: [string, string][] = [
    ["10.0.0.1@tcp/fs1", "Invalid mount string 10.0.0.1@tcp/fs1"],
    [":/fs1", "Invalid mount string :/fs1"],
    ["10.0.0.1@tcp:/", "Invalid mount string 10.0.0.1@tcp:/"],
    ["10.0.0.1@tcp:/seventeen-chars-x", "Invalid mount string 10.0.0.1@tcp:/seventeen-chars-x"],
    ["10.0.0.1@tcp:/fs1/../x", "Invalid mount string 10.0.0.1@tcp:/fs1/../x"],
    ["10.0.0.1@tcp:bad@tcp:/fs1", "Can't parse NID 'bad@tcp:/fs1'"],
    ["10.0.0.1@foo:/fs1", "Unsupported NID '10.0.0.1@foo'"],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseLustreSource(input), (e: unknown) => {
      assert.ok(e instanceof SourceSyntaxError);
      assert.equal(e.message, message);
      return true;
    });
  }
});
