import assert from "node:assert/strict";
import { type ControllerBenchResults, formatControllerMarkdown } from "./bench_controller.ts";

const results: ControllerBenchResults = {
  settings: { creates: 2000, concurrent: 8, files: 200000 },
  creates: {
    firstP50Ms: 4,
    lastP50Ms: 5,
    ratio: 1.25,
    sequenceFirstP50Ms: 4,
    blockP50Ms: [4, 5],
    wallSeconds: 10,
  },
  concurrent: { controllers: 8, creates: 80, failed: 0, distinctProjectIds: 80 },
  delete: { files: 200000, deleteMs: 5, purgeSeconds: 30, trashEmpty: true },
  totalSeconds: 50,
};

Deno.test("formatControllerMarkdown() marks each goal met or NOT met", () => {
  const good = formatControllerMarkdown(results);
  assert.doesNotMatch(good, /NOT met/);
  const bad = formatControllerMarkdown({
    ...results,
    creates: { ...results.creates, ratio: 1.8 },
    concurrent: { ...results.concurrent, distinctProjectIds: 79 },
    delete: { ...results.delete, deleteMs: 1500, trashEmpty: false },
  });
  assert.equal(bad.match(/NOT met/g)?.length, 4);
});
