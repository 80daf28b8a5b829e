import assert from "node:assert/strict";
import { checkKubeletDir, checkSocket } from "./node_checks.ts";

Deno.test("checkKubeletDir() passes for a directory and fails with a fix otherwise", async () => {
  const yes = await checkKubeletDir("/var/lib/kubelet", () => Promise.resolve(true));
  assert.deepEqual(yes, { name: "kubelet dir", ok: true, detail: "/var/lib/kubelet exists" });
  const no = await checkKubeletDir("/nope", () => Promise.resolve(false));
  assert.equal(no.ok, false);
  assert.match(no.fix!, /--kubelet-dir/);
});

Deno.test("checkSocket() passes when Probe says ready and fails when not ready or silent", async () => {
  const endpoint = "unix:///csi/csi.sock";
  assert.equal((await checkSocket(endpoint, () => Promise.resolve(true))).ok, true);
  const notReady = await checkSocket(endpoint, () => Promise.resolve(false));
  assert.deepEqual([notReady.ok, notReady.detail], [
    false,
    `${endpoint} answered Probe: not ready`,
  ]);
  const silent = await checkSocket(endpoint, () => Promise.reject(new Error("14: No connection")));
  assert.equal(silent.ok, false);
  assert.match(silent.detail, /did not answer Probe: 14: No connection/);
  assert.match(silent.fix!, /--endpoint/);
});
