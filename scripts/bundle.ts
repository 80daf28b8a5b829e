/**
 * Bundles the driver with `deno bundle` (esbuild): the entry of the `node`
 * task in deno.json becomes DIR/main.js, and every Worker module under src/
 * becomes DIR/<its file name> beside it. The driver starts its Workers with
 * `new Worker(new URL("./x.ts", import.meta.url))`, and in the bundle
 * import.meta.url is main.js's own URL, so each Worker's bundle keeps the
 * Worker's file name, `.ts` included (esbuild writes JavaScript, which Deno
 * also loads as TypeScript). The bundle imports nothing but `node:` modules:
 * one module instead of ~400 to load and transpile, which is what the image
 * runs (scripts/compile.ts compiles the bundle) and what the bench measures.
 * The first `deno bundle` on a machine fetches esbuild from the npm registry
 * (then it is cached in DENO_DIR).
 *
 * Usage: deno run --allow-read --allow-run scripts/bundle.ts [--out DIR]
 *   --out  directory of the bundle, relative to the repository (default dist/bundle)
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { spawnBounded } from "../src/exec/spawn_bounded.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where `deno task bundle` and scripts/compile.ts write the bundle (relative to the repo). */
export const BUNDLE_DIR = "dist/bundle";
/** The bundle of the entry point, in the bundle's directory. */
export const BUNDLE_MAIN = "main.js";
/**
 * Deno flags that run the bundle as the image runs it. The bundle needs no
 * import map, lockfile or node_modules, and the compiled binary has no
 * deno.json (scripts/compile.ts compiles with --no-config), so neither does a
 * `deno run` of the bundle, wherever it runs from.
 */
export const BUNDLE_RUN_FLAGS: readonly string[] = ["--no-config"];
/** One `deno bundle` at most (the first also downloads esbuild). */
const BUNDLE_TIMEOUT_MS = 180_000;

/**
 * The flags and entry point of the `node` task: `deno run FLAGS... ENTRY.ts node`.
 * @throws SyntaxError when the task has another shape
 */
export function parseNodeTask(task: string): { flags: string[]; entry: string } {
  const words = task.trim().split(/\s+/);
  const entryIndex = words.findIndex((w) => w.endsWith(".ts"));
  if (words[0] !== "deno" || words[1] !== "run" || entryIndex < 3) {
    throw new SyntaxError(
      `Cannot read the node task "${task}": expected "deno run FLAGS ENTRY.ts"`,
    );
  }
  return { flags: words.slice(2, entryIndex), entry: words[entryIndex] };
}

/** The `node` task of the repository's deno.json, read. */
export function readNodeTask(): { flags: string[]; entry: string } {
  return parseNodeTask(JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.node);
}

const WORKER = /new Worker\(/g;
const WORKER_URL = /new Worker\(\s*new URL\(\s*(["'])([^"'`]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Modules started as Workers by the given sources (path relative to the repo -> text).
 * @throws SyntaxError for a Worker whose module is not a literal URL beside import.meta.url
 */
export function findWorkerModules(sources: ReadonlyMap<string, string>): string[] {
  const found = new Set<string>();
  for (const [path, text] of sources) {
    const urls = [...text.matchAll(WORKER_URL)];
    if (urls.length !== [...text.matchAll(WORKER)].length) {
      throw new SyntaxError(
        `Cannot embed the workers of "${path}": write new Worker(new URL("./x.ts", import.meta.url))`,
      );
    }
    for (const match of urls) {
      // In the bundle import.meta.url is main.js's: a Worker module must sit beside its user.
      if (!/^\.\/[^/]+\.ts$/.test(match[2])) {
        throw new SyntaxError(
          `Cannot bundle the worker "${match[2]}" of "${path}": a Worker module must be a file ` +
            `beside the module that starts it ("./x.ts"), where the bundle puts it`,
        );
      }
      const url = new URL(match[2], `file:///${path}`);
      found.add(decodeURIComponent(url.pathname.slice(1)));
    }
  }
  return [...found].sort();
}

/** The Worker modules (paths relative to the repo) started by the sources in the entry's folder. */
export function sourceWorkerModules(entry: string): string[] {
  return findWorkerModules(readSources(entry.slice(0, entry.indexOf("/")), new Map()));
}

function readSources(dir: string, into: Map<string, string>): Map<string, string> {
  for (const entry of Deno.readDirSync(`${ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) readSources(path, into);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      into.set(path, Deno.readTextFileSync(`${ROOT}${path}`));
    }
  }
  return into;
}

/** One `deno bundle`: a module and the file it is bundled to. */
export interface BundleStep {
  readonly entry: string;
  readonly output: string;
}

/** The bundles of `entry` and its `workers` in `dir`: DIR/main.js, then DIR/<Worker file name>. */
export interface BundlePlan {
  readonly main: BundleStep;
  readonly workers: readonly BundleStep[];
}

/**
 * Where each module's bundle goes in `dir`.
 * @throws Error when two Worker modules have the same file name (one would overwrite the other)
 */
export function bundlePlan(entry: string, workers: readonly string[], dir: string): BundlePlan {
  const byName = new Map<string, string>([[BUNDLE_MAIN, entry]]);
  const steps = workers.map((worker) => {
    const name = worker.slice(worker.lastIndexOf("/") + 1);
    const other = byName.get(name);
    if (other !== undefined) {
      throw new Error(
        `Cannot bundle "${worker}": its bundle ${dir}/${name} would overwrite the bundle of ` +
          `"${other}" (a Worker's bundle keeps its file name); rename one of them`,
      );
    }
    byName.set(name, worker);
    return { entry: worker, output: `${dir}/${name}` };
  });
  return { main: { entry, output: `${dir}/${BUNDLE_MAIN}` }, workers: steps };
}

/**
 * The arguments after `deno` that bundle one module: for the Deno runtime,
 * with every npm package inlined, resolved by the repository's deno.json
 * (given, so that it does not depend on the working directory) and its
 * lockfile (--frozen: the locked versions, no update).
 */
export function bundleArgs(step: BundleStep, config: string): string[] {
  return [
    "bundle",
    "--quiet",
    "--frozen",
    "--config",
    config,
    "--platform",
    "deno",
    "--output",
    step.output,
    step.entry,
  ];
}

/**
 * Runs every `deno bundle` of the plan, one at a time (each
 * BUNDLE_TIMEOUT_MS at most); relative paths are relative to the repository.
 * @throws Error with deno's output when one fails or times out
 */
export async function writeBundle(plan: BundlePlan): Promise<void> {
  const inRepo = (path: string) => path.startsWith("/") ? path : `${ROOT}${path}`;
  for (const step of [plan.main, ...plan.workers]) {
    const args = bundleArgs(
      { entry: inRepo(step.entry), output: inRepo(step.output) },
      `${ROOT}deno.json`,
    );
    const result = await spawnBounded(Deno.execPath(), args, {
      env: { NO_COLOR: "1" },
      timeoutMs: BUNDLE_TIMEOUT_MS,
    });
    if ("timeout" in result) {
      throw new Error(
        `deno ${args.join(" ")} did not finish within ${BUNDLE_TIMEOUT_MS / 1000} s` +
          ` (the first deno bundle downloads esbuild from the npm registry)`,
      );
    }
    if (result.code !== 0) {
      const hint = /esbuild/i.test(result.stderr)
        ? "; the first deno bundle on a machine downloads esbuild from the npm registry, " +
          "so it needs the network"
        : "";
      throw new Error(
        `deno ${args.join(" ")} failed (exit ${result.code})${hint}:\n${result.stderr.trim()}`,
      );
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { out: { type: "string", default: BUNDLE_DIR } },
    strict: true,
    allowPositionals: false,
  });
  const { entry } = readNodeTask();
  const plan = bundlePlan(entry, sourceWorkerModules(entry), values.out);
  await writeBundle(plan);
  for (const step of [plan.main, ...plan.workers]) console.error(`${step.entry} -> ${step.output}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`bundle: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
