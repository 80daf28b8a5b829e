import assert from "node:assert/strict";
import { VolumeUsage_Unit } from "../csi/gen/csi_pb.ts";
import { FakeRunner } from "../exec/fake_runner.ts";
import { FakeLogger } from "../fake_logger.ts";
import { type FsGate, FsNotAnsweringError } from "../mount/fs_gate.ts";
import { VolumeStats } from "./volume_stats.ts";

const KEY = "10.0.0.1@tcp:/fs1 (device 0:44)";

/** A gate whose mount answers, or has not answered since `hungSince`. */
function fakeGate(hungSince?: Date): FsGate {
  const hung = () => Promise.reject(new FsNotAnsweringError(KEY, hungSince!, 10000));
  return {
    usage: (_key, _path) =>
      hungSince ? hung() : Promise.resolve({
        totalBytes: 1000,
        availableBytes: 600,
        usedBytes: 400,
        totalInodes: 100,
        freeInodes: 90,
        usedInodes: 10,
      }),
    stat: () => hung(),
    realPath: () => hung(),
    check: () => hungSince ? hung() : Promise.resolve({ healthy: true }),
    notAnsweringSince: () => hungSince,
    close: () => {},
  };
}

function statsWith(gate: FsGate, runner = new FakeRunner(() => ({ code: 1 }))) {
  return new VolumeStats({ runner, logger: new FakeLogger(), gate, timeoutMs: 1000 });
}

Deno.test("VolumeStats.measure() reports a hung mount abnormal, with zeros, without running lfs", async () => {
  const runner = new FakeRunner();
  const since = new Date("2026-05-04T10:12:03.114Z");
  const answer = await statsWith(fakeGate(since), runner).measure("/kubelet/pods/p/mount", KEY);
  assert.deepEqual(answer.volumeCondition, {
    abnormal: true,
    message: "Lustre file system not answering since 2026-05-04T10:12:03.114Z: " +
      "10.0.0.1@tcp:/fs1 (device 0:44) (checked again every 10000 ms)",
  });
  assert.deepEqual(answer.usage.map((u) => [u.unit, u.total, u.used, u.available]), [
    [VolumeUsage_Unit.BYTES, 0n, 0n, 0n],
    [VolumeUsage_Unit.INODES, 0n, 0n, 0n],
  ]);
  assert.deepEqual(runner.calls, [], "no lfs on a hung mount");
});

Deno.test("VolumeStats.measure() reads usage through the gate when the mount answers", async () => {
  const answer = await statsWith(fakeGate()).measure("/kubelet/pods/p/mount", KEY);
  assert.equal(answer.volumeCondition.abnormal, false);
  assert.deepEqual(answer.usage.map((u) => [u.unit, u.total, u.used, u.available]), [
    [VolumeUsage_Unit.BYTES, 1000n, 400n, 600n],
    [VolumeUsage_Unit.INODES, 100n, 10n, 90n],
  ]);
});
