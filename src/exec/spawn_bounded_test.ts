import assert from "node:assert/strict";
import { killRunningGroups, spawnBounded } from "./spawn_bounded.ts";

Deno.test("killRunningGroups() kills a program still running, with its children", async () => {
  const marker = `sleep ${3600 + Math.floor(Math.random() * 1000)}`;
  const run = spawnBounded("/bin/sh", ["-c", `/bin/${marker} & wait`], {
    env: {},
    timeoutMs: 60_000,
  });
  const listed = async () =>
    new TextDecoder().decode(
      (await new Deno.Command("pgrep", { args: ["-f", marker] }).output()).stdout,
    ).trim();
  while ((await listed()) === "") await new Promise((r) => setTimeout(r, 20));
  killRunningGroups();
  const result = await run;
  assert.ok(!("timeout" in result), "answers at the kill, not at the time limit");
  assert.notEqual(result.code, 0);
  assert.equal(await listed(), "", "the child of the killed program is gone too");
});
