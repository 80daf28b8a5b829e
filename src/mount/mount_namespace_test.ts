import assert from "node:assert/strict";
import { hostPathEnv } from "./mount_namespace.ts";

Deno.test("hostPathEnv() drops the /host prefix and duplicates, keeps other directories", () => {
  assert.equal(
    hostPathEnv("/host/usr/sbin:/host/sbin:/usr/sbin:/sbin:/opt/sim/bin::/host"),
    "/usr/sbin:/sbin:/opt/sim/bin:/",
  );
});
