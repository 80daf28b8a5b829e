import assert from "node:assert/strict";
import { compareVersions, parseMountOptions } from "./options.ts";

Deno.test("compareVersions() orders dotted versions numerically", () => {
  assert.ok(compareVersions("2.15.8", "2.15.6") > 0);
  assert.ok(compareVersions("2.15.10", "2.15.8") > 0);
  assert.ok(compareVersions("2.14.0", "2.15.0") < 0);
  assert.equal(compareVersions("2.15.6", "2.15.6"), 0);
});

Deno.test("parseMountOptions() accepts the 2.15 client options and refuses the rest", () => {
  const ok = parseMountOptions(
    "rw,flock,user_xattr,lazystatfs,noatime,_netdev,network=tcp1,retry=3,context=x,encrypt",
    "2.15.6",
  );
  assert.deepEqual(ok.unknown, []);
  assert.deepEqual(ok.mountFlags, ["rw", "noatime"]);
  const bad = parseMountOptions("flock,exclusive,statfs_project,mgsname=x,unique_fsid", "2.15.6");
  assert.deepEqual(bad.unknown, ["exclusive", "statfs_project", "mgsname=x", "unique_fsid"]);
});

Deno.test("parseMountOptions() accepts unique_fsid from 2.15.8", () => {
  const o = parseMountOptions("unique_fsid,ro,nosuid", "2.15.8");
  assert.deepEqual(o.unknown, []);
  assert.equal(o.uniqueFsid, true);
  assert.equal(o.readOnly, true);
  assert.deepEqual(o.mountFlags, ["ro", "strictatime", "nosuid"]);
  assert.equal(parseMountOptions("force", "2.15.6").force, true);
});
