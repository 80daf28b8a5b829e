import assert from "node:assert/strict";
import { compareVersions, parseMountOptions, selinuxOptions } from "./options.ts";

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

Deno.test("parseMountOptions() takes SELinux contexts with commas inside quotes as one option", () => {
  const label = '"system_u:object_r:container_file_t:s0:c0,c1"';
  const o = parseMountOptions(
    `flock,context=${label},fscontext=${label},defcontext=${label},rootcontext=u:r:t:s0`,
    "2.15.6",
  );
  assert.deepEqual(o.unknown, []);
  assert.deepEqual(selinuxOptions(o.all), [
    `context=${label}`,
    `fscontext=${label}`,
    `defcontext=${label}`,
    "rootcontext=u:r:t:s0",
  ]);
  const bad = parseMountOptions('context="u:r:t:s0:c0,c1,flock', "2.15.6");
  assert.deepEqual(bad.unknown, ['context="u:r:t:s0:c0,c1,flock']);
  assert.deepEqual(parseMountOptions("context=u:r:t:s0:c0,c1", "2.15.6").unknown, ["c1"]);
});
