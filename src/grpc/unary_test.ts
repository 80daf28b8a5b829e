import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import type { sendUnaryData, ServerUnaryCall } from "@grpc/grpc-js";
import { Node, NodeStageVolumeRequestSchema } from "../csi/gen/csi_pb.ts";
import { Code, CsiError } from "../csi/csi_error.ts";
import { LockTable } from "../locks.ts";
import { FakeLogger } from "../fake_logger.ts";
import { type MetricsHook, NOOP_METRICS } from "../metrics.ts";
import type { Route } from "../driver.ts";
import { wrapUnary } from "./unary.ts";

function stageRoute(handler: Route["handler"]): Route {
  return {
    service: Node,
    method: Node.method.nodeStageVolume,
    handler,
    lockKeys: (r) => [`path:${r.stagingTargetPath}`],
    logLevel: "info",
  };
}

function recordingMetrics() {
  const done: [string, string][] = [];
  const metrics: MetricsHook = {
    ...NOOP_METRICS,
    rpcDone: (method, code) => done.push([method, code]),
  };
  return { done, metrics };
}

function call(handler: ReturnType<typeof wrapUnary>, request = {}) {
  const message = create(NodeStageVolumeRequestSchema, {
    volumeId: "v1",
    stagingTargetPath: "/s",
    secrets: { password: "hunter2-secret" },
    ...request,
  });
  return new Promise<{ error: { code?: number; details?: string } | null; value: unknown }>(
    (resolve) => {
      const callback: sendUnaryData<unknown> = (error, value) =>
        resolve({ error: error as { code?: number; details?: string } | null, value });
      handler({ request: message } as ServerUnaryCall<never, never>, callback as never);
    },
  );
}

Deno.test("wrapUnary() answers the handler's CsiError code and logs one info line without secrets", async () => {
  const logger = new FakeLogger();
  const { done, metrics } = recordingMetrics();
  const handler = wrapUnary(
    stageRoute(() =>
      Promise.reject(new CsiError(Code.NOT_FOUND, 'Cannot stage volume "v1": gone'))
    ),
    { logger, locks: new LockTable(), metrics },
  );
  const { error } = await call(handler);
  assert.equal(error?.code, Code.NOT_FOUND);
  assert.match(error?.details ?? "", /gone/);
  const info = logger.entries.filter((e) => e.level === "info");
  assert.equal(info.length, 1);
  assert.equal(info[0].properties.code, "NOT_FOUND");
  assert.equal(info[0].properties.volumeId, "v1");
  assert.equal(typeof info[0].properties.durationMs, "number");
  assert.deepEqual(done, [["NodeStageVolume", "NOT_FOUND"]]);
  assert.doesNotMatch(logger.text(), /hunter2-secret/);
});

Deno.test("wrapUnary() answers ABORTED while the lock key is busy, and INTERNAL for unknown errors", async () => {
  const logger = new FakeLogger();
  const { metrics } = recordingMetrics();
  let release!: () => void;
  const locks = new LockTable();
  const slow = wrapUnary(
    stageRoute(() => new Promise((resolve) => release = () => resolve({}))),
    { logger, locks, metrics },
  );
  const first = call(slow);
  const second = await call(slow);
  assert.equal(second.error?.code, Code.ABORTED);
  assert.match(second.error?.details ?? "", /Operation pending for volume "v1"/);
  release();
  assert.equal((await first).error, null);
  assert.equal(locks.size, 0, "the lock is released after the call");
  const broken = wrapUnary(stageRoute(() => Promise.reject(new Error("boom"))), {
    logger,
    locks,
    metrics,
  });
  const internal = await call(broken);
  assert.equal(internal.error?.code, Code.INTERNAL);
  assert.equal(internal.error?.details, "boom");
  assert.ok(
    logger.entries.some((e) => e.level === "error" && String(e.properties.stack).includes("boom")),
  );
});
