import assert from "node:assert/strict";
import { CsiError } from "../csi/csi_error.ts";
import { publishFlags } from "./publish_flags.ts";

const context = { action: "publish", volumeId: "v1" };

Deno.test("publishFlags() adds nosuid,nodev unless suid/dev is asked for and allowed", () => {
  assert.deepEqual(publishFlags(context, { bindFlags: ["noatime"], suidDev: [] }, false), [
    "noatime",
    "nosuid",
    "nodev",
  ]);
  assert.deepEqual(publishFlags(context, { bindFlags: ["nosuid"], suidDev: [] }, true), [
    "nosuid",
    "nodev",
  ]);
  assert.deepEqual(publishFlags(context, { bindFlags: [], suidDev: ["suid"] }, true), ["nodev"]);
  assert.deepEqual(publishFlags(context, { bindFlags: [], suidDev: ["suid", "dev"] }, true), []);
  assert.throws(
    () => publishFlags(context, { bindFlags: [], suidDev: ["dev"] }, false),
    (e) => e instanceof CsiError && /"dev" is refused.*allowSuidDevVolumes/.test(e.message),
  );
});
