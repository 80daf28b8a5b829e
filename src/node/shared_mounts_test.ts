import type { FsGate } from "../mount/fs_gate.ts";
import assert from "node:assert/strict";
import { SharedMounts } from "./shared_mounts.ts";
import { FakeRunner } from "../exec/fake_runner.ts";
import { FakeLogger } from "../fake_logger.ts";
import type { Mounter } from "../mount/mounter.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { LustreClient, LustreClientNotReadyError } from "../lustre/client_state.ts";
import type { ClientStatus } from "../lustre/client_check.ts";
import { parseLustreSource } from "../lustre/source.ts";

const MODULES_MISSING: ClientStatus = {
  ready: false,
  version: "",
  reasons: ["Lustre modules do not answer: lctl exited with 2"],
};

/** A mount table where every mount.lustre run of the fake runner shows up. */
function fakeNode(stateDir: string, answers: ClientStatus[]) {
  const mounts: MountInfo[] = [];
  const runner = new FakeRunner((command, args) => {
    if (command === "mount.lustre") {
      mounts.push({
        id: mounts.length + 100,
        parentId: 1,
        major: 0,
        minor: 50 + mounts.length,
        root: "/",
        mountPoint: args[1],
        options: ["rw"],
        optionalFields: [],
        fsType: "lustre",
        source: args[0],
        superOptions: ["rw"],
      });
    }
    return {};
  });
  const mounter: Mounter = {
    mountInfo: () => Promise.resolve([...mounts]),
    bind: () => Promise.resolve(),
    bindBeneath: () => Promise.resolve(),
    replaceBeneath: () => Promise.resolve(),
    unmount: () => Promise.resolve(),
    makePrivate: () => Promise.resolve(),
    close: () => {},
  };
  let checks = 0;
  const client = new LustreClient({
    // Every call checks again (cache 0), so each use sees the next answer.
    check: () => Promise.resolve(answers[Math.min(checks++, answers.length - 1)]),
    cacheMs: 0,
  });
  const gate: FsGate = {
    usage: () => Promise.reject(new Error("not used")),
    stat: () => Promise.reject(new Error("not used")),
    realPath: () => Promise.reject(new Error("not used")),
    check: () => Promise.resolve({ healthy: true }),
    notAnsweringSince: () => undefined,
    notAnswering: () => [],
    close: () => {},
  };
  const shared = new SharedMounts({
    runner,
    mounter,
    gate,
    logger: new FakeLogger(),
    stateDir,
    kubeletDir: `${stateDir}/kubelet`,
    mountTimeoutMs: 1000,
    unmountTimeoutMs: 1000,
    checkTimeoutMs: 1000,
    clientVersion: () => client.version(),
    clientReady: () => client.requireReady(),
  });
  const mountRuns = () => runner.calls.filter((c) => c.command === "mount.lustre");
  return { shared, mountRuns, client };
}

const CHOICE = { source: parseLustreSource("10.0.0.1@tcp:/fs1"), clientOptions: ["flock"] };

Deno.test("SharedMounts.withMount() keeps one mount when the client version read fails later", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "shared-mounts-test-" });
  try {
    const ready: ClientStatus = { ready: true, version: "2.15.8", reasons: [] };
    const { shared, mountRuns, client } = fakeNode(stateDir, [ready, ready, MODULES_MISSING]);
    const first = await shared.withMount(CHOICE, (m) => Promise.resolve(m.path));
    // A later check (Probe, a scrape) fails: lctl reads no version now.
    assert.equal((await client.status()).version, "");
    const second = await shared.withMount(CHOICE, (m) => Promise.resolve(m.path));
    assert.equal(second, first, "the same shared mount");
    assert.equal(mountRuns().length, 1);
    assert.ok(mountRuns()[0].args.join(" ").includes("unique_fsid"), "2.15.8: unique_fsid");
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("SharedMounts.withMount() fails cleanly while the client version is unknown, then mounts", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "shared-mounts-test-" });
  try {
    const ready: ClientStatus = { ready: true, version: "2.15.6", reasons: [] };
    const { shared, mountRuns } = fakeNode(stateDir, [MODULES_MISSING, ready]);
    await assert.rejects(
      shared.withMount(CHOICE, () => Promise.resolve()),
      LustreClientNotReadyError,
    );
    assert.equal(mountRuns().length, 0, "no mount while the version is unknown");
    const path = await shared.withMount(CHOICE, (m) => Promise.resolve(m.path));
    assert.equal(mountRuns().length, 1);
    assert.equal(mountRuns()[0].args[1], path);
    assert.ok(!mountRuns()[0].args.join(" ").includes("unique_fsid"), "2.15.6: no unique_fsid");
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("SharedMounts.withMount() checks the client is ready before running mount.lustre", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "shared-mounts-test-" });
  try {
    const ready: ClientStatus = { ready: true, version: "2.15.6", reasons: [] };
    const helperGone: ClientStatus = {
      ready: false,
      version: "2.15.6",
      reasons: ["mount.lustre is not usable: not found"],
    };
    const { shared, mountRuns } = fakeNode(stateDir, [ready, helperGone, ready]);
    await assert.rejects(
      shared.withMount(CHOICE, () => Promise.resolve()),
      /the Lustre client is not ready: mount\.lustre is not usable/,
    );
    assert.equal(mountRuns().length, 0);
    await shared.withMount(CHOICE, () => Promise.resolve());
    assert.equal(mountRuns().length, 1);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
