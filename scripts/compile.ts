/**
 * Builds the single `klustre-csi` binary with `deno compile`.
 *
 * The binary gets the runtime flags of the `node` task in deno.json (written
 * once, there), and every Worker module under src/ is embedded with
 * `--include`, since `deno compile` does not follow `new Worker(...)`.
 * container/Containerfile runs this script; `deno compile` downloads its
 * runtime stub, so it needs the network.
 *
 * Usage: deno run --allow-read --allow-run scripts/compile.ts
 *          [--target TRIPLE] [--output PATH] [--print]
 *   --target  e.g. x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu (default: this machine)
 *   --output  binary path (default dist/klustre-csi)
 *   --print   print the deno arguments, one per line, instead of compiling
 */
import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url).pathname;

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
      const url = new URL(match[2], `file:///${path}`);
      found.add(decodeURIComponent(url.pathname.slice(1)));
    }
  }
  return [...found].sort();
}

/** The arguments after `deno` that compile the binary. */
export function compileArgs(
  task: { flags: string[]; entry: string },
  options: { workers: string[]; output: string; target?: string },
): string[] {
  const args = ["compile", "--frozen"];
  if (options.target) args.push("--target", options.target);
  args.push("--output", options.output);
  for (const worker of options.workers) args.push("--include", worker);
  return [...args, ...task.flags, task.entry];
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

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      output: { type: "string", default: "dist/klustre-csi" },
      print: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const task = parseNodeTask(JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.node);
  const srcDir = task.entry.slice(0, task.entry.indexOf("/"));
  const args = compileArgs(task, {
    workers: findWorkerModules(readSources(srcDir, new Map())),
    output: values.output,
    target: values.target,
  });
  if (values.print) {
    console.log(args.join("\n"));
    return 0;
  }
  console.error(`deno ${args.join(" ")}`);
  const child = new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null" }).spawn();
  return (await child.status).code;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
