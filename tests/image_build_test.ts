/**
 * The multi-arch image: scripts/build-image plans linux/amd64 and linux/arm64,
 * and container/Containerfile compiles each with its own `deno compile --target`.
 * No container engine is needed: the script's --dry-run prints its plan.
 */
import assert from "node:assert/strict";
import { compileArgs } from "../scripts/compile.ts";
import { ROOT, runOk } from "./support/manifests.ts";

/** The Deno target triple each image platform's binary must be compiled for. */
const DENO_TARGETS: Record<string, string> = {
  "linux/amd64": "x86_64-unknown-linux-gnu",
  "linux/arm64": "aarch64-unknown-linux-gnu",
};

/** TARGETARCH -> target triple, from the `case "$TARGETARCH"` of the Containerfile's build stage. */
function containerfileTargets(text: string): Map<string, string> {
  const arms = [...text.matchAll(/^\s*([a-z0-9]+)\) target=([a-z0-9_-]+) ;;/gm)];
  return new Map(arms.map((m) => [m[1], m[2]]));
}

Deno.test("build-image --dry-run plans one manifest list for amd64 and arm64 with both engines", () => {
  for (const engine of ["docker", "podman"]) {
    const plan = runOk(`${ROOT}scripts/build-image`, ["--dry-run", "--engine", engine]);
    const build = plan.split("\n").find((l) => /^\+ (docker buildx|podman) build /.test(l));
    assert.ok(build, `${engine}: a build command in\n${plan}`);
    const platforms = build.match(/ --platform (\S+) /)?.[1].split(",").sort();
    assert.deepEqual(platforms, Object.keys(DENO_TARGETS).sort(), `${engine}: ${build}`);
    if (engine === "podman") assert.match(build, / --manifest \S+ /, "podman: a manifest list");
  }
});

Deno.test("Containerfile compiles the binary for every platform build-image builds", () => {
  const text = Deno.readTextFileSync(`${ROOT}container/Containerfile`);
  assert.match(text, /FROM --platform=\$BUILDPLATFORM /, "cross-compiles, no emulation");
  assert.match(text, /scripts\/compile\.ts --target "\$target"/);
  const targets = containerfileTargets(text);
  for (const [platform, triple] of Object.entries(DENO_TARGETS)) {
    assert.equal(targets.get(platform.split("/")[1]), triple, platform);
  }
});

Deno.test("compileArgs() passes the target triple to deno compile", () => {
  for (const triple of Object.values(DENO_TARGETS)) {
    const args = compileArgs({ flags: ["--allow-all"], entry: "src/main.ts" }, {
      workers: [],
      output: "dist/klustre-csi",
      target: triple,
    });
    assert.deepEqual(args.slice(args.indexOf("--target"), args.indexOf("--target") + 2), [
      "--target",
      triple,
    ]);
    assert.equal(args.at(-1), "src/main.ts");
  }
});
