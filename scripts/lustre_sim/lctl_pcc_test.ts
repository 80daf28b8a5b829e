import assert from "node:assert/strict";
import { isValidRule, parsePccParam } from "./lctl_pcc.ts";

Deno.test("isValidRule() accepts the 2.15 autocache grammar", () => {
  for (const ok of ["projid={500}", "projid={500 600}&fname={*.h5},uid={1001}", "gid={5}"]) {
    assert.ok(isValidRule(ok), ok);
  }
  for (const bad of ["projid=500", "owner={1}", "uid={x}", "projid={}", "projid={1},", ""]) {
    assert.ok(!isValidRule(bad), bad);
  }
});

Deno.test("parsePccParam() applies default flags and the kernel's checks", () => {
  assert.deepEqual(parsePccParam("/cache", "projid={500} rwid=1"), {
    path: "/cache",
    rwid: 1,
    roid: 0,
    flags: 0x3e,
    rule: "projid={500}",
  });
  const ro = parsePccParam("/cache", "uid={1} ropcc=1 roid=2 auto_attach=0");
  assert.equal(typeof ro === "object" && ro.flags, 0x20);
  const cases: [string, string][] = [
    ["relative", "projid={1} rwid=1"],
    ["/c", "projid=1 rwid=1"],
    ["/c", "projid={1}"],
    ["/c", "projid={1} rwid=0"],
    ["/c", "projid={1} rwpcc=1 ropcc=1 rwid=1"],
    ["/c", "projid={1} colour=1"],
  ];
  for (const [path, param] of cases) assert.equal(parsePccParam(path, param), 22, param);
});

Deno.test("isValidRule() accepts lctl-pcc(8)'s comparisons and size", () => {
  for (const ok of ["projid={100}&size>{1M}&size<{500G}", "projid>{100}&projid<{110}"]) {
    assert.ok(isValidRule(ok), ok);
  }
  for (const bad of ["fname>{a}", "uid<{1 2}", "size={x}"]) assert.ok(!isValidRule(bad), bad);
});
