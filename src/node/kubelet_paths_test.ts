import assert from "node:assert/strict";
import { CsiError } from "../csi/csi_error.ts";
import { belowKubelet, requireKubeletPath } from "./kubelet_paths.ts";

const context = { action: "publish", volumeId: "v1" };

Deno.test("requireKubeletPath() accepts only normalised paths strictly below the kubelet dir", () => {
  const check = (path: string, dir = "/var/lib/kubelet") =>
    requireKubeletPath(context, "targetPath", path, dir);
  assert.equal(check("/var/lib/kubelet/pods/p/mount/"), "/var/lib/kubelet/pods/p/mount");
  assert.equal(check("/anything", "/"), "/anything");
  for (
    const bad of [
      "/etc",
      "/var/lib/kubelet",
      "/var/lib/kubelet2/x",
      "/var/lib/kubelet/../x",
      "pods/x",
    ]
  ) {
    assert.throws(() => check(bad), (e) => e instanceof CsiError && e.message.includes(bad), bad);
  }
});

Deno.test("belowKubelet() splits a checked path into the trusted root and the rest", () => {
  assert.deepEqual(belowKubelet("/k", "/k/pods/p"), { root: "/k", path: "pods/p" });
  assert.deepEqual(belowKubelet("/", "/pods/p"), { root: "/", path: "pods/p" });
});
