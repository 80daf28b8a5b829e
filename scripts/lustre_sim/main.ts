/** `lustre-sim`: builds, breaks and tears down a simulated Lustre client environment. */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { down, up } from "./cluster.ts";
import { applyFault, FAULT_KINDS, FaultUsageError } from "./faults.ts";
import { parseConfig, readState, updateState } from "./state.ts";
import { readThrough } from "./pcc_cache.ts";

const HELP = `lustre-sim: Lustre client simulator (docs/simulator.md)

Usage:
  lustre-sim up --root DIR [--state FILE]   build a cluster under DIR; stand-ins in DIR/bin
  lustre-sim fault --root DIR KIND [ARGS]   switch a fault (below)
  lustre-sim down --root DIR                unmount and stop everything; safe to repeat
  lustre-sim status --root DIR              print the state as JSON
  lustre-sim read --root DIR FILE...        read files as a client would: through read-only PCC
                                            when a dataset's rule matches, counted in llite.*.stats
  lustre-sim --help

Faults:
${Object.entries(FAULT_KINDS).map(([k, v]) => `  ${k.padEnd(16)} ${v}`).join("\n")}

Exit status: 0 ok, 1 failure, 2 usage error.`;

/** The repository root (two levels above this file). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

const VALUE_OPTIONS = new Set(["--root", "--delay-ms", "--nid", "--cmd", "--state"]);

/** Splits `fault` arguments into the kind and the rest, dropping --root. */
export function splitFaultArgs(rest: string[]): { kind?: string; args: string[] } {
  const args: string[] = [];
  let kind: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--root") {
      i++;
    } else if (a.startsWith("--root=")) {
      continue;
    } else if (VALUE_OPTIONS.has(a)) {
      args.push(a, rest[++i]);
    } else if (kind === undefined && !a.startsWith("-")) {
      kind = a;
    } else {
      args.push(a);
    }
  }
  return { kind, args: args.filter((a) => a !== undefined) };
}

/** Runs the CLI; returns the exit status. */
export function main(args: string[]): number {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { root: { type: "string" }, state: { type: "string" }, help: { type: "boolean" } },
      allowPositionals: true,
      strict: command !== "fault",
    });
  } catch (e) {
    console.error(`lustre-sim: ${(e as Error).message}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(HELP);
    return 0;
  }
  const root = parsed.values.root;
  if (typeof root !== "string" || root === "") {
    console.error(`lustre-sim ${command}: --root DIR is required`);
    return 2;
  }
  const absRoot = resolve(root);
  try {
    switch (command) {
      case "up": {
        let config;
        if (typeof parsed.values.state === "string") {
          config = parseConfig(JSON.parse(Deno.readTextFileSync(parsed.values.state)));
        }
        for (const line of up(absRoot, { repo: repoRoot(), config })) console.log(line);
        return 0;
      }
      case "down":
        for (const line of down(absRoot)) console.log(line);
        return 0;
      case "status": {
        const state = readState(absRoot);
        if (!state) {
          console.error(`lustre-sim status: no simulator at ${absRoot}`);
          return 1;
        }
        console.log(JSON.stringify(state, null, 2));
        return 0;
      }
      case "fault": {
        const { kind, args: faultArgs } = splitFaultArgs(rest);
        if (!kind) {
          console.error("lustre-sim fault: KIND is required (see --help)");
          return 2;
        }
        console.log(applyFault(absRoot, kind, faultArgs));
        return 0;
      }
      case "read":
        for (const file of parsed.positionals) console.log(readFile(absRoot, file));
        return 0;
      default:
        console.error(`lustre-sim: unknown command "${command}" (see --help)`);
        return 2;
    }
  } catch (e) {
    if (e instanceof FaultUsageError || e instanceof TypeError) {
      console.error(`lustre-sim ${command}: ${e.message}`);
      return 2;
    }
    console.error(`lustre-sim ${command}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

/** Reads one file through its client instance; counts Lustre reads on the instance. */
function readFile(root: string, file: string): string {
  return updateState(root, (s) => {
    const r = readThrough(s, file);
    const record = s.runtime.mounts.find((m) => m.fs === r.fs && m.instance === r.instance);
    if (record && r.lustreBytes > 0) {
      const reads = record.reads ?? { count: 0, min: r.lustreBytes, max: 0, sum: 0 };
      record.reads = {
        count: reads.count + 1,
        min: Math.min(reads.min, r.lustreBytes),
        max: Math.max(reads.max, r.lustreBytes),
        sum: reads.sum + r.lustreBytes,
      };
    }
    return `${file}: ${r.bytes} bytes from ${r.from} (${r.fs}-${r.instance})`;
  });
}

if (import.meta.main) Deno.exit(main(Deno.args));
