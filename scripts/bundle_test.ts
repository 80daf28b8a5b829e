import assert from "node:assert/strict";
import { BUNDLE_MAIN, bundleArgs, bundlePlan, sourceWorkerModules } from "./bundle.ts";

Deno.test("bundlePlan() puts the entry at DIR/main.js and each Worker beside it under its file name", () => {
  const plan = bundlePlan("src/main.ts", ["src/crypto/_w1.ts", "src/mount/w2.ts"], "/tmp/b");
  assert.deepEqual(plan.main, { entry: "src/main.ts", output: `/tmp/b/${BUNDLE_MAIN}` });
  assert.deepEqual(plan.workers, [
    { entry: "src/crypto/_w1.ts", output: "/tmp/b/_w1.ts" },
    { entry: "src/mount/w2.ts", output: "/tmp/b/w2.ts" },
  ]);
});

Deno.test("bundlePlan() refuses two Worker modules with the same file name", () => {
  assert.throws(
    () => bundlePlan("src/main.ts", ["src/a/_worker.ts", "src/b/_worker.ts"], "dist/bundle"),
    /Cannot bundle "src\/b\/_worker\.ts": its bundle dist\/bundle\/_worker\.ts would overwrite the bundle of "src\/a\/_worker\.ts"/,
  );
  assert.throws(
    () => bundlePlan("src/main.ts", ["src/x/main.js"], "d"),
    /overwrite .*"src\/main\.ts"/,
  );
});

Deno.test("bundleArgs() bundles one module for Deno with the locked versions of the given config", () => {
  assert.deepEqual(
    bundleArgs({ entry: "/r/src/main.ts", output: "/tmp/b/main.js" }, "/r/deno.json"),
    [
      "bundle",
      "--quiet",
      "--frozen",
      "--config",
      "/r/deno.json",
      "--platform",
      "deno",
      "--output",
      "/tmp/b/main.js",
      "/r/src/main.ts",
    ],
  );
});

Deno.test("sourceWorkerModules() finds the driver's Worker modules, with distinct file names", () => {
  const workers = sourceWorkerModules("src/main.ts");
  assert.ok(workers.includes("src/mount/_syscall_worker.ts"), workers.join(" "));
  assert.ok(workers.includes("src/mount/fs_call_worker.ts"), workers.join(" "));
  const names = workers.map((w) => w.slice(w.lastIndexOf("/") + 1));
  assert.equal(new Set(names).size, names.length, names.join(" "));
  bundlePlan("src/main.ts", workers, "dist/bundle");
});
