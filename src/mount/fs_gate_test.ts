import assert from "node:assert/strict";
import { FsNotAnsweringError, gateKey, sourceOfGateKey, WorkerFsGate } from "./fs_gate.ts";
import type { FsCallReply, FsCallRequest } from "./fs_call_worker.ts";
import type { WorkerLike } from "./fs_worker_pool.ts";
import { errorStatus } from "../grpc/error_status.ts";
import { OperationError } from "../csi/operation_error.ts";
import { Code } from "../csi/csi_error.ts";
import { FakeLogger } from "../fake_logger.ts";

const FROZEN = gateKey({ source: "10.0.0.1@tcp:/fs1", major: 0, minor: 44 });
const HEALTHY = gateKey({ source: "10.0.0.1@tcp:/fs2", major: 0, minor: 45 });

/** File systems behind fake workers: paths below /fs1 block while frozen. */
class FakeFs {
  frozen = false;
  created = 0;
  #blocked: (() => void)[] = [];

  worker = (): WorkerLike => {
    this.created++;
    const worker: WorkerLike = {
      onmessage: null,
      onerror: null,
      postMessage: (request: FsCallRequest) => {
        const answer = () =>
          worker.onmessage?.({ data: reply(request) } as MessageEvent<FsCallReply>);
        if (this.frozen && request.path.startsWith("/fs1")) this.#blocked.push(answer);
        else setTimeout(answer, 1);
      },
      terminate: () => {},
    };
    return worker;
  };

  thaw(): void {
    this.frozen = false;
    for (const answer of this.#blocked.splice(0)) answer();
  }
}

function reply(request: FsCallRequest): FsCallReply {
  if (request.path.endsWith("/missing")) return { errno: 2 };
  const minor = request.path.startsWith("/fs1") ? 44 : 45;
  switch (request.op) {
    case "statfs":
      return { errno: 0, statfs: [4096, 100, 60, 50, 1000, 900] };
    case "stat":
      return { errno: 0, stat: { mode: 0o040755, size: 4096, major: 0, minor } };
    case "realpath":
      return { errno: 0, realpath: request.path };
    default:
      return { errno: 0 };
  }
}

/** A gate on fake workers; by default a further worker at once (the breaker tests run 4 calls per mount). */
function gateOn(
  fs: FakeFs,
  { timeoutMs = 100, probeIntervalMs = 20, spareAfterMs = 0 } = {},
) {
  return new WorkerFsGate({ timeoutMs, probeIntervalMs, createWorker: fs.worker, spareAfterMs });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("WorkerFsGate.usage() turns statfs into bytes and inodes", async () => {
  const gate = gateOn(new FakeFs());
  try {
    assert.deepEqual(await gate.usage(HEALTHY, "/fs2/vol"), {
      totalBytes: 409600,
      availableBytes: 204800,
      usedBytes: 163840,
      totalInodes: 1000,
      freeInodes: 900,
      usedInodes: 100,
    });
    assert.deepEqual(await gate.stat(HEALTHY, "/fs2/vol"), { isDirectory: true, size: 4096 });
    assert.deepEqual(await gate.check(HEALTHY, "/fs2/vol"), { healthy: true });
    const missing = await gate.check(HEALTHY, "/fs2/missing");
    assert.equal(missing.healthy, false);
    await assert.rejects(gate.realPath(HEALTHY, "/fs2/missing"), Deno.errors.NotFound);
  } finally {
    gate.close();
  }
});

Deno.test("WorkerFsGate.check() opens a mount's breaker at the first overrun and answers at once after", async () => {
  const fs = new FakeFs();
  const gate = gateOn(fs);
  try {
    fs.frozen = true;
    const first = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => gate.check(FROZEN, `/fs1/vol-${i}`)),
    );
    for (const result of first) {
      assert.equal(result.status, "rejected");
      assert.ok(result.reason instanceof FsNotAnsweringError);
      assert.match(result.reason.message, /^Lustre file system not answering since \d{4}-/);
    }
    assert.ok(gate.notAnsweringSince(FROZEN) instanceof Date);
    // Later calls do not even reach a worker.
    const created = fs.created;
    const later = await Promise.allSettled(
      Array.from({ length: 100 }, () => gate.usage(FROZEN, "/fs1/vol-0")),
    );
    assert.ok(
      later.every((r) => r.status === "rejected" && r.reason instanceof FsNotAnsweringError),
    );
    assert.ok(fs.created <= created + 1, "at most the probe started a thread");
    // Threads held by the hung mount: its 4 calls and one probe.
    await until(() => gate.threads.stuck === 5, "the probe is stuck too");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(gate.threads.stuck, 5, "one probe at a time");
    // Another file system keeps answering.
    assert.deepEqual(await gate.check(HEALTHY, "/fs2/vol"), { healthy: true });
  } finally {
    fs.thaw();
    gate.close();
  }
});

Deno.test("WorkerFsGate.stat() works again when a probe answers after thaw", async () => {
  const fs = new FakeFs();
  const gate = gateOn(fs);
  try {
    fs.frozen = true;
    await assert.rejects(gate.stat(FROZEN, "/fs1/vol"), FsNotAnsweringError);
    assert.deepEqual(gate.notAnswering().map((m) => m.key), [FROZEN], "listed while it hangs");
    await until(() => gate.threads.stuck === 2, "the probe is stuck");
    fs.thaw();
    await until(() => gate.notAnsweringSince(FROZEN) === undefined, "the breaker closes");
    assert.deepEqual(gate.notAnswering(), [], "and no longer once it answers");
    assert.deepEqual(await gate.stat(FROZEN, "/fs1/vol"), { isDirectory: true, size: 4096 });
    assert.equal(gate.threads.stuck, 0, "stuck threads came back");
  } finally {
    gate.close();
  }
});

Deno.test("WorkerFsGate.check() never calls a mount answering from a path that left it", async () => {
  const fs = new FakeFs();
  const logger = new FakeLogger();
  const gate = new WorkerFsGate({
    timeoutMs: 100,
    probeIntervalMs: 20,
    createWorker: fs.worker,
    logger,
  });
  try {
    fs.frozen = true;
    await assert.rejects(gate.check(FROZEN, "/fs1/vol"), FsNotAnsweringError);
    // The volume was unpublished: its path is now a directory on another device (45).
    await assert.rejects(gate.check(FROZEN, "/fs2/was-a-target"), FsNotAnsweringError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(gate.check(FROZEN, "/fs1/vol"), FsNotAnsweringError);
    assert.doesNotMatch(logger.text(), /answers again/);
    fs.thaw();
    await until(() => gate.notAnsweringSince(FROZEN) === undefined, "the breaker closes");
    assert.deepEqual(await gate.check(FROZEN, "/fs1/vol"), { healthy: true });
  } finally {
    gate.close();
  }
});

Deno.test("WorkerFsGate.check() running on a mount gives up as soon as another call overruns", async () => {
  const fs = new FakeFs();
  const gate = new WorkerFsGate({ timeoutMs: 400, probeIntervalMs: 50, createWorker: fs.worker });
  try {
    fs.frozen = true;
    const first = gate.check(FROZEN, "/fs1/a");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events: string[] = [];
    const second = gate.check(FROZEN, "/fs1/b").catch((error) => {
      events.push("second gave up");
      return error;
    });
    const ownDeadline = new Promise((resolve) => setTimeout(resolve, 400)).then(() => {
      events.push("second's own deadline");
    });
    await assert.rejects(first, FsNotAnsweringError);
    assert.ok((await second) instanceof FsNotAnsweringError);
    await ownDeadline;
    assert.deepEqual(events, ["second gave up", "second's own deadline"]);
  } finally {
    fs.thaw();
    gate.close();
  }
});

Deno.test("errorStatus() answers UNAVAILABLE for a mount that is not answering", () => {
  const cause = new FsNotAnsweringError(FROZEN, new Date("2026-01-01T00:00:00Z"), 10000);
  const status = errorStatus(new OperationError("stage", "pv-1", "/staging", cause));
  assert.equal(status.code, Code.UNAVAILABLE);
  assert.match(status.message, /Lustre file system not answering since 2026-01-01T00:00:00\.000Z/);
});

Deno.test("sourceOfGateKey() gives back the source a breaker key was made from", () => {
  assert.equal(sourceOfGateKey(FROZEN), "10.0.0.1@tcp:/fs1");
  const odd = { source: "10.0.0.1@tcp:/fs (device x)", major: 0, minor: 9 };
  assert.equal(sourceOfGateKey(gateKey(odd)), odd.source);
});

Deno.test("WorkerFsGate runs quick calls on one thread and gives a spare to calls behind one that hangs", async () => {
  const fs = new FakeFs();
  const patient = gateOn(fs, { timeoutMs: 5000, probeIntervalMs: 1000, spareAfterMs: 5000 });
  try {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => patient.check(HEALTHY, `/fs2/vol-${i}`)),
    );
    assert.ok(answers.every((a) => a.healthy));
    assert.equal(fs.created, 1, "ten quick calls at once on one thread");
  } finally {
    patient.close();
  }

  const gate = gateOn(fs, { timeoutMs: 5000, probeIntervalMs: 1000, spareAfterMs: 50 });
  try {
    fs.frozen = true;
    const stuck = gate.check(FROZEN, "/fs1/vol").catch((error) => error);
    const started = Date.now();
    assert.deepEqual(await gate.check(HEALTHY, "/fs2/vol"), { healthy: true });
    assert.ok(Date.now() - started < 4000, "answered long before the stuck call's timeout");
    assert.equal(gate.threads.busy + gate.threads.idle, 2, "the stuck call's thread and a spare");
    fs.thaw();
    assert.deepEqual(await stuck, { healthy: true });
  } finally {
    fs.thaw();
    gate.close();
  }
});
