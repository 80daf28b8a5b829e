/** A file system that squashes the controller's root is named, with the fix. */
import assert from "node:assert/strict";
import { Controller } from "../src/csi/gen/csi_pb.ts";
import { Code } from "../src/csi/csi_error.ts";
import { CallError } from "../src/grpc/client.ts";
import { capability, FS1, type NodeEnv, startNodeEnv } from "./support/node_env.ts";

function create(env: NodeEnv, name: string, source: string) {
  return env.controller!.client.call(Controller.method.createVolume, {
    name,
    capacityRange: { requiredBytes: 1n << 30n },
    volumeCapabilities: [capability()],
    parameters: { source, basePath: "k8s" },
  });
}

Deno.test("CreateVolume() on a root-squashed file system is FAILED_PRECONDITION naming nosquash_nids and the controller's NIDs", async () => {
  await using env = await startNodeEnv({ controller: true, hostNamespace: false });
  await env.sim.fault("root-squash", "fs2", "on");
  const error = await create(env, "pvc-squashed", "10.0.0.1@tcp:/fs2").catch((e) => e);
  assert.ok(error instanceof CallError, `expected a failure, got ${error}`);
  assert.equal(error.code, Code.FAILED_PRECONDITION, error.message);
  assert.match(error.message, /File system "fs2" squashes root for this controller/);
  assert.match(error.message, /owned by uid 65534/);
  assert.match(error.message, /nosquash_nids/);
  assert.match(error.message, /add its NIDs \([^)]*@tcp[^)]*\)/);
  const logged = env.controller!.logLines().some((l) =>
    String(l.level).toLowerCase() === "error" && /squashes root/.test(String(l.message))
  );
  assert.ok(logged, "the controller logs it as an error");
  const { volume } = await create(env, "pvc-fine", FS1);
  assert.ok(volume, "another file system is not affected");
});
