import assert from "node:assert/strict";
import { setupLogging } from "./log.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = setupLogging("debug", (line) => lines.push(JSON.parse(line)));
  return { logger, lines };
}

Deno.test("setupLogging() writes the rendered message and keeps the template as its own field", () => {
  const { logger, lines } = capture();
  logger.info("{method} {code}", { method: "NodeStageVolume", code: "OK", durationMs: 12 });
  logger.warn("Lustre client not ready: {reasons}", { reasons: "lctl missing; no modules" });
  logger.debug("Took {ms} ms for {ids}", { ms: 3, ids: ["a", "b"] });
  assert.equal(lines[0].message, "NodeStageVolume OK");
  assert.equal(lines[0].template, "{method} {code}");
  assert.equal(lines[0].method, "NodeStageVolume");
  assert.equal(lines[0].durationMs, 12);
  assert.equal(lines[1].message, "Lustre client not ready: lctl missing; no modules");
  assert.equal(lines[1].level, "WARN");
  assert.equal(lines[2].message, 'Took 3 ms for ["a","b"]');
});

Deno.test("setupLogging() leaves a message without placeholders as it is", () => {
  const { logger, lines } = capture();
  logger.info("Stopped");
  logger.trace("not written below the level");
  assert.equal(lines.length, 1);
  assert.equal(lines[0].message, "Stopped");
  assert.equal("template" in lines[0], false);
});
