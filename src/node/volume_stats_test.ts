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
    notAnswering: () => [],
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

Deno.test("VolumeStats.measure() runs one statfs per mount for the volumes asked at once", async () => {
  const gate = fakeGate();
  let statfs = 0;
  const usage = gate.usage;
  const counting: FsGate = { ...gate, usage: (key, path) => (statfs++, usage(key, path)) };
  const stats = statsWith(counting);
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) => stats.measure(`/kubelet/pods/p${i}/mount`, KEY)),
  );
  assert.equal(statfs, 1, "the figures of one mount are shared");
  assert.ok(answers.every((a) => a.usage[0].total === 1000n && !a.volumeCondition.abnormal));
  await stats.measure("/kubelet/pods/other/mount", "10.0.0.2@tcp:/fs2 (device 0:45)");
  assert.equal(statfs, 2, "another mount gets its own statfs");
});

Deno.test("VolumeStats.measure() looks up a project once, and reads its quota once per burst of calls", async () => {
  const runner = new FakeRunner((_command, args) =>
    args[0] === "project" ? { stdout: ` 1000 P /kubelet/pods/p/mount\n` } : {
      stdout: `Disk quotas for prj 1000 (pid 1000):
     Filesystem  kbytes   quota   limit   grace   files   quota   limit   grace
/kubelet/pods/p/mount
                     4       0     100       -       2       0      50       -
`,
    }
  );
  const stats = statsWith(fakeGate(), runner);
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => stats.measure("/kubelet/pods/p/mount", KEY)),
  );
  assert.deepEqual(runner.calls.map((c) => c.args[0]), ["project", "quota"]);
  assert.equal(answers[0].usage[0].total, 102400n, "the quota is the size");
  // A later call reads the quota afresh (an expansion shows), the project ID is kept.
  await stats.measure("/kubelet/pods/p/mount", KEY);
  assert.deepEqual(runner.calls.map((c) => c.args[0]), ["project", "quota", "quota"]);
  stats.forget("/kubelet/pods/p/mount");
  await stats.measure("/kubelet/pods/p/mount", KEY);
  assert.deepEqual(
    runner.calls.map((c) => c.args[0]),
    ["project", "quota", "quota", "project", "quota"],
  );
});
