/**
 * Runs the shell blocks of README.md and docs/*.md that are marked
 * `<!-- ci: run -->` (and writes the `<!-- ci: file NAME -->` ones), as
 * written, against the Lustre simulator: one bash per document, from the
 * repository's root, in a private mount namespace where /tmp is a fresh tmpfs
 * and the checkout is an overlay whose writes vanish afterwards. `klustre-csi`
 * on PATH is the checkout (`deno run src/main.ts`), kubectl and helm come from
 * scripts/fetch-kube-tools. Each document's script must exit 0.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { type CheapVariant, type DocBlock, docScript, markedBlocks } from "./support/doc_blocks.ts";
import { HELM, KUBECTL, ROOT } from "./support/manifests.ts";
import { DENO, REPO } from "./support/driver.ts";

/** Commands too costly to run in full on every CI run. */
const CHEAP: readonly CheapVariant[] = [
  {
    pattern: /^\.\/scripts\/test(?= |$)/,
    replacement: "./scripts/test tests/config_cli_test.ts",
    why: "the whole suite includes this test; fmt, lint and type check still run in full",
  },
];

/** Every markdown file users read. */
function docFiles(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)].filter((e) => e.name.endsWith(".md"));
  return ["README.md", ...docs.map((e) => `docs/${e.name}`).sort()];
}

/** Sets up the namespace, runs $CI_DOC_SCRIPT, and takes down every simulator under /tmp. */
const WRAPPER = String.raw`
set -euo pipefail
repo=$1 scratch=$2 deno=$3 tools=$4
mount -t tmpfs docs-ci "$scratch"
mkdir -p "$scratch/upper" "$scratch/work" "$scratch/tmp/.ci-bin"
mount -t overlay docs-ci -o "lowerdir=$repo,upperdir=$scratch/upper,workdir=$scratch/work" "$repo"
printf '#!/bin/sh\nexec %s run --allow-all %s/src/main.ts "$@"\n' "$deno" "$repo" \
  > "$scratch/tmp/.ci-bin/klustre-csi"
chmod +x "$scratch/tmp/.ci-bin/klustre-csi"
printf '%s' "$CI_DOC_SCRIPT" > "$scratch/tmp/.ci-bin/doc.sh"
bin="$scratch/tmp/.ci-bin"
case "$repo/" in
  /tmp/*) ;;
  *) mount --bind "$scratch/tmp" /tmp; bin=/tmp/.ci-bin ;;
esac
cleanup() {
  for state in /tmp/*/state.json; do
    [ -e "$state" ] && "$repo/scripts/lustre-sim" down --root "$(dirname "$state")" >/dev/null 2>&1
  done
  return 0
}
trap cleanup EXIT
cd "$repo"
export PATH="$bin:$tools:$PATH" NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
bash -euo pipefail "$bin/doc.sh"
`;

/** Whether a document's blocks call kubectl or helm (scripts/fetch-kube-tools). */
function needsKubeTools(blocks: readonly DocBlock[]): boolean {
  return blocks.some((b) => /\b(kubectl|helm)\b/.test(b.text));
}

const RUNNABLE = docFiles().map((file) => ({
  file,
  blocks: markedBlocks(file, Deno.readTextFileSync(`${ROOT}${file}`)),
})).filter((doc) => doc.blocks.some((b) => b.action.kind === "run"));

Deno.test("the docs mark the blocks CI runs: README, install, operations, simulator", () => {
  const files = RUNNABLE.map((d) => d.file);
  for (const file of ["README.md", "docs/install.md", "docs/operations.md", "docs/simulator.md"]) {
    assert.ok(files.includes(file), `${file} has runnable blocks`);
  }
  const all = RUNNABLE.flatMap((d) => d.blocks.map((b) => b.text)).join("\n");
  for (
    const command of [
      "./scripts/demo",
      "./scripts/test",
      "scripts/lustre-sim up",
      "src/main.ts doctor",
      "klustre-csi pv",
      "helm template",
      "kubectl kustomize",
    ]
  ) {
    assert.ok(all.includes(command), `a runnable block runs ${command}`);
  }
});

for (const doc of RUNNABLE) {
  Deno.test({
    name: `${doc.file}: its marked shell blocks run as written and exit 0`,
    ignore: Deno.uid() !== 0 || (needsKubeTools(doc.blocks) && (!KUBECTL || !HELM)),
    async fn() {
      const scratch = await Deno.makeTempDir({ prefix: "klustre-docs-" });
      try {
        const output = await new Deno.Command("unshare", {
          args: [
            "--mount",
            "--propagation",
            "private",
            "bash",
            "-c",
            WRAPPER,
            "docs-ci",
            REPO,
            scratch,
            DENO,
            KUBECTL ? dirname(KUBECTL) : "/nonexistent",
          ],
          env: { CI_DOC_SCRIPT: docScript(doc.blocks, CHEAP) },
          stdout: "piped",
          stderr: "piped",
          signal: AbortSignal.timeout(240_000),
        }).output();
        const text = new TextDecoder();
        const stderr = text.decode(output.stderr);
        const failedAt = [...stderr.matchAll(/^::: (\S+)$/gm)].at(-1)?.[1];
        assert.equal(
          output.code,
          0,
          `${failedAt ?? doc.file} failed (exit ${output.code}):\n` +
            `${text.decode(output.stdout).slice(-3000)}\n${stderr.slice(-3000)}`,
        );
      } finally {
        await Deno.remove(scratch); // empty: its tmpfs went with the namespace
      }
    },
  });
}

Deno.test("markedBlocks() reads marked blocks, indented ones too, and refuses bad markers", () => {
  const text = [
    "<!-- ci: run -->",
    "",
    "```sh",
    "echo one",
    "```",
    "```sh",
    "echo unmarked",
    "```",
    "1. Step:",
    "   <!-- ci: file a/b.yaml -->",
    "   ```yaml",
    "   key: 1",
    "   ```",
  ].join("\n");
  assert.deepEqual(markedBlocks("x.md", text), [
    { file: "x.md", line: 3, action: { kind: "run" }, text: "echo one\n" },
    { file: "x.md", line: 11, action: { kind: "file", name: "a/b.yaml" }, text: "key: 1\n" },
  ]);
  assert.throws(
    () => markedBlocks("x.md", "<!-- ci: runn -->\n```sh\nx\n```"),
    /unknown ci marker/,
  );
  assert.throws(() => markedBlocks("x.md", "<!-- ci: file ../x -->\n```\nx\n```"), /unknown/);
  assert.throws(
    () => markedBlocks("x.md", "<!-- ci: run -->\ntext\n```sh\nx\n```"),
    /right before/,
  );
  assert.throws(() => markedBlocks("x.md", "<!-- ci: run -->\n```sh\nx\n"), /not closed/);
});

Deno.test("docScript() writes files, runs blocks in order and applies the cheap variants", () => {
  const blocks = markedBlocks(
    "r.md",
    "<!-- ci: file v.yaml -->\n```yaml\na: 1\n```\n<!-- ci: run -->\n```sh\n./scripts/test   # all\n```\n",
  );
  assert.equal(
    docScript(blocks, CHEAP),
    "echo '::: r.md:2' >&2\ncat > 'v.yaml' <<'CI_DOC_EOF'\na: 1\nCI_DOC_EOF\n" +
      "echo '::: r.md:6' >&2\n./scripts/test tests/config_cli_test.ts   # all\n",
  );
});
