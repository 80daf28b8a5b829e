import assert from "node:assert/strict";
import { LustreClient, LustreClientNotReadyError } from "./client_state.ts";
import type { ClientStatus } from "./client_check.ts";

const READY = (version: string): ClientStatus => ({ ready: true, version, reasons: [] });
const MODULES_MISSING: ClientStatus = {
  ready: false,
  version: "",
  reasons: ["Lustre modules do not answer: lctl exited with 2"],
};

/** A client whose checks answer from `answers` in turn (the last one repeats). */
function scripted(answers: ClientStatus[], cacheMs = 0) {
  let checks = 0;
  let now = 0;
  const changes: boolean[] = [];
  const client = new LustreClient({
    check: () => Promise.resolve(answers[Math.min(checks++, answers.length - 1)]),
    cacheMs,
    onChange: (status) => changes.push(status.ready),
    now: () => now,
  });
  return {
    client,
    changes,
    checks: () => checks,
    advance: (ms: number) => now += ms,
  };
}

Deno.test("LustreClient.version() keeps a version read once when a later check fails", async () => {
  const { client } = scripted([READY("2.15.8"), MODULES_MISSING]);
  assert.equal(await client.version(), "2.15.8");
  await assert.rejects(client.requireReady(), LustreClientNotReadyError);
  assert.equal(await client.version(), "2.15.8");
});

Deno.test("LustreClient.version() fails while unknown and answers once a check reads it", async () => {
  const { client } = scripted([MODULES_MISSING, READY("2.15.6")]);
  await assert.rejects(client.version(), /the Lustre client is not ready: Lustre modules do not/);
  assert.equal(await client.version(), "2.15.6");
});

Deno.test("LustreClient.status() reuses a ready answer within the cache period but re-checks a not-ready one", async () => {
  const ready = scripted([READY("2.15.6")], 10_000);
  await ready.client.status();
  await ready.client.status();
  assert.equal(ready.checks(), 1);
  ready.advance(10_000);
  await ready.client.status();
  assert.equal(ready.checks(), 2);

  const down = scripted([MODULES_MISSING, READY("2.15.6")], 10_000);
  assert.equal((await down.client.status()).ready, false);
  assert.equal((await down.client.status()).ready, true, "modules loaded: seen at once");
});

Deno.test("LustreClient.status() shares one check between concurrent callers", async () => {
  let release = () => {};
  let checks = 0;
  const client = new LustreClient({
    check: () => {
      checks++;
      return new Promise((resolve) => release = () => resolve(READY("2.15.6")));
    },
    cacheMs: 0,
  });
  const both = Promise.all([client.status(), client.status()]);
  release();
  await both;
  assert.equal(checks, 1);
});

Deno.test("LustreClient.status() checks again for a caller that joined a check begun before it asked", async () => {
  // The driver starts; its first check finds no modules; they load while that check still runs
  // (mount.lustre -V slow); a publish asking then must not get the stale "not ready".
  const releases: Array<() => void> = [];
  const answers = [MODULES_MISSING, READY("2.15.6")];
  let checks = 0;
  const client = new LustreClient({
    check: () => {
      const answer = answers[Math.min(checks++, answers.length - 1)];
      return new Promise((resolve) => releases.push(() => resolve(answer)));
    },
    cacheMs: 0,
  });
  const first = client.status();
  const joined = client.status();
  releases[0]();
  assert.equal((await first).ready, false, "the first check began after the first caller asked");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(checks, 2, "the joined caller started a fresh check");
  releases[1]();
  assert.equal((await joined).ready, true);
});

Deno.test("LustreClient reports each change of readiness once", async () => {
  const { client, changes } = scripted([
    MODULES_MISSING,
    MODULES_MISSING,
    READY("2.15.6"),
    MODULES_MISSING,
  ]);
  for (let i = 0; i < 4; i++) await client.status();
  assert.deepEqual(changes, [false, true, false]);
  assert.deepEqual(client.last, MODULES_MISSING);
});

Deno.test("LustreClient.requireReady() names what is missing", async () => {
  const { client } = scripted([MODULES_MISSING]);
  const error = await client.requireReady().catch((e) => e);
  assert.ok(error instanceof LustreClientNotReadyError);
  assert.equal(
    error.message,
    "the Lustre client is not ready: Lustre modules do not answer: lctl exited with 2",
  );
});
