/**
 * Builds the single `klustre-csi` binary: first the bundle (scripts/bundle.ts:
 * DIR/main.js and one bundle per Worker module), then `deno compile` of
 * DIR/main.js.
 *
 * The binary gets the runtime flags of the `node` task in deno.json (written
 * once, there), and every Worker's bundle is embedded with `--include`, since
 * `deno compile` does not follow `new Worker(...)`. container/Containerfile
 * runs this script; `deno bundle` fetches esbuild and `deno compile` its
 * runtime stub on first use, so both need the network.
 *
 * Usage: deno run --allow-read --allow-run scripts/compile.ts
 *          [--target TRIPLE] [--output PATH] [--bundle-dir DIR] [--print]
 *   --target      e.g. x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu (default: this machine)
 *   --output      binary path (default dist/klustre-csi)
 *   --bundle-dir  where the bundle is written first (default dist/bundle)
 *   --print       print the deno compile arguments, one per line, instead of bundling and compiling
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import {
  BUNDLE_DIR,
  bundlePlan,
  readNodeTask,
  sourceWorkerModules,
  writeBundle,
} from "./bundle.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** `deno compile` at most (the first also downloads the runtime stub of the target). */
const COMPILE_TIMEOUT_MS = 600_000;

/**
 * The arguments after `deno` that compile the binary from `task.entry` (the
 * bundle's main.js) with the task's flags.
 *
 * --no-config: the bundle imports nothing but `node:` modules, so the
 * repository's deno.json has nothing left to resolve; with it, `deno compile`
 * would read its lockfile and, for its nodeModulesDir, could embed npm
 * packages from node_modules that the bundle already inlined. Without a
 * config there is no lockfile either, so no --frozen (`deno bundle` had it).
 * --no-check: the Worker bundles are esbuild's JavaScript in files named .ts
 * (the names the driver's `new Worker(new URL(...))` asks for), which would not
 * pass a type check; the sources were type-checked (`deno check`) before.
 */
export function compileArgs(
  task: { flags: string[]; entry: string },
  options: { workers: string[]; output: string; target?: string },
): string[] {
  const args = ["compile", "--no-config", "--no-check"];
  if (options.target) args.push("--target", options.target);
  args.push("--output", options.output);
  for (const worker of options.workers) args.push("--include", worker);
  return [...args, ...task.flags, task.entry];
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      output: { type: "string", default: "dist/klustre-csi" },
      "bundle-dir": { type: "string", default: BUNDLE_DIR },
      print: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const task = readNodeTask();
  const plan = bundlePlan(task.entry, sourceWorkerModules(task.entry), values["bundle-dir"]);
  const args = compileArgs({ flags: task.flags, entry: plan.main.output }, {
    workers: plan.workers.map((step) => step.output),
    output: values.output,
    target: values.target,
  });
  if (values.print) {
    console.log(args.join("\n"));
    return 0;
  }
  console.error(`bundling ${task.entry} and its ${plan.workers.length} Worker modules`);
  await writeBundle(plan);
  console.error(`deno ${args.join(" ")}`);
  // Relative paths (the bundle, --output) are relative to the repository.
  const signal = AbortSignal.timeout(COMPILE_TIMEOUT_MS);
  const child = new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null", signal })
    .spawn();
  const status = await child.status;
  if (signal.aborted) console.error(`deno compile stopped after ${COMPILE_TIMEOUT_MS / 1000} s`);
  return status.code;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`compile: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
