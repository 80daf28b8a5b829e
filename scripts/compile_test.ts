import assert from "node:assert/strict";
import { compileArgs } from "./compile.ts";

Deno.test("compileArgs() compiles the bundle without the repo's config, embedding each Worker's bundle", () => {
  const args = compileArgs(
    { flags: ["--allow-all", "--v8-flags=--lite-mode"], entry: "b/main.js" },
    {
      workers: ["b/_a.ts", "b/c.ts"],
      output: "dist/klustre-csi",
    },
  );
  assert.deepEqual(args, [
    "compile",
    "--no-config",
    "--no-check",
    "--output",
    "dist/klustre-csi",
    "--include",
    "b/_a.ts",
    "--include",
    "b/c.ts",
    "--allow-all",
    "--v8-flags=--lite-mode",
    "b/main.js",
  ]);
});
