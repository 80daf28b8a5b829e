/**
 * Doctor checks of the Lustre client: the three tools and their versions,
 * the kernel modules, LNet's NIDs and each MGS answering `lctl ping`.
 * Every command goes through the runner with a timeout.
 */
import type { CommandRunner } from "../exec/command_runner.ts";
import { CommandNotFoundError } from "../exec/command_errors.ts";
import { parseVersion } from "../lustre/client_check.ts";
import type { LustreSource } from "../lustre/source.ts";
import { type CheckResult, fail, pass } from "./check_result.ts";

/** What the Lustre checks need. */
export interface LustreCheckDeps {
  readonly runner: CommandRunner;
  /** Limit of each command. */
  readonly timeoutMs: number;
  /** The PATH the tools are looked up on, for messages. */
  readonly pathEnv: string;
}

/** The tools the driver runs, and the argument that prints each one's version. */
export const LUSTRE_TOOLS: readonly (readonly [string, string])[] = [
  ["mount.lustre", "-V"],
  ["lfs", "--version"],
  ["lctl", "--version"],
];

/** Runs `tool versionFlag`: PASS with the version, FAIL when missing or broken. */
export async function checkTool(
  tool: string,
  versionFlag: string,
  deps: LustreCheckDeps,
): Promise<CheckResult> {
  const name = `tool ${tool}`;
  try {
    const result = await deps.runner.run(tool, [versionFlag], { timeoutMs: deps.timeoutMs });
    const text = `${result.stdout}\n${result.stderr}`;
    const version = parseVersion(text);
    return pass(name, version ? `version ${version}` : `answered "${firstLine(text)}"`);
  } catch (error) {
    if (error instanceof CommandNotFoundError) {
      return fail(
        name,
        `missing: ${error.message}`,
        `install the Lustre client utilities on the host (package lustre-client or ` +
          `lustre-client-utils), or point --path-env (setting pathEnv) at the directory ` +
          `that holds ${tool}`,
      );
    }
    return fail(
      name,
      `${tool} ${versionFlag} failed: ${(error as Error).message}`,
      `run "${tool} ${versionFlag}" on the host; in the container, for a loader or library ` +
        `error see the "host loader" check: with hostLoader auto the tools' library dirs under ` +
        `/host must be on --ld-library-path (setting ldLibraryPath)`,
    );
  }
}

/** `lctl get_param -n version`: PASS with the loaded client's version. */
export async function checkModules(deps: LustreCheckDeps): Promise<CheckResult> {
  const name = "lustre modules";
  try {
    const result = await deps.runner.run("lctl", ["get_param", "-n", "version"], {
      timeoutMs: deps.timeoutMs,
    });
    const version = parseVersion(result.stdout);
    if (version) return pass(name, `loaded, client version ${version}`);
    return fail(
      name,
      `lctl printed no version: "${firstLine(result.stdout)}"`,
      "check the Lustre client install: lctl get_param -n version should print the version",
    );
  } catch (error) {
    return fail(
      name,
      `not loaded: ${(error as Error).message}`,
      "load the Lustre client modules on the host (modprobe lustre) and make it permanent " +
        "(/etc/modules-load.d/lustre.conf); the modules must be built for the running kernel " +
        "(uname -r)",
    );
  }
}

/**
 * `lctl list_nids`: PASS with this node's NIDs. When the modules are not
 * loaded the fix says to load them first.
 */
export async function checkNids(deps: LustreCheckDeps, modulesLoaded: boolean): Promise<{
  result: CheckResult;
  nids: string[];
}> {
  const name = "lnet nids";
  const fix = modulesLoaded
    ? 'configure LNet on the network of the MGS, e.g. "options lnet networks=tcp0(eth0)" in ' +
      "/etc/modprobe.d/lustre.conf, or lnetctl lnet configure && lnetctl net add --net tcp " +
      "--if eth0"
    : 'load the Lustre modules first (see "lustre modules"); LNet starts with them';
  try {
    const result = await deps.runner.run("lctl", ["list_nids"], { timeoutMs: deps.timeoutMs });
    const nids = result.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    if (nids.length === 0) return { result: fail(name, "LNet has no NIDs", fix), nids };
    return { result: pass(name, nids.join(", ")), nids };
  } catch (error) {
    return {
      result: fail(name, `LNet is not running: ${(error as Error).message}`, fix),
      nids: [],
    };
  }
}

/** One MGS node (failover group) and the file systems it serves, from the sources. */
export interface MgsNode {
  readonly nids: readonly string[];
  readonly fileSystems: readonly string[];
}

/** The distinct MGS nodes of the sources, in order of first appearance. */
export function mgsNodesOf(sources: readonly LustreSource[]): MgsNode[] {
  const nodes = new Map<string, { nids: readonly string[]; fileSystems: string[] }>();
  for (const source of sources) {
    for (const nids of source.mgsNodes) {
      const key = nids.join(",");
      const node = nodes.get(key) ?? { nids, fileSystems: [] };
      if (!node.fileSystems.includes(source.fsName)) node.fileSystems.push(source.fsName);
      nodes.set(key, node);
    }
  }
  return [...nodes.values()];
}

/** The name of one MGS node's check: "mgs NIDS (file systems)". */
export function mgsCheckName(node: MgsNode): string {
  return `mgs ${node.nids.join(",")} (${node.fileSystems.join(", ")})`;
}

/**
 * `lctl ping NID SECONDS` for each NID of one MGS node: PASS when any
 * answered. `localNids` (from list_nids) names a network this node lacks.
 */
export async function checkMgs(
  node: MgsNode,
  localNids: readonly string[],
  deps: LustreCheckDeps,
): Promise<CheckResult> {
  const name = mgsCheckName(node);
  const seconds = String(Math.max(1, Math.floor(deps.timeoutMs / 2000)));
  const failures: string[] = [];
  for (const nid of node.nids) {
    try {
      const result = await deps.runner.run("lctl", ["ping", nid, seconds], {
        timeoutMs: deps.timeoutMs,
      });
      return pass(name, `${nid} answered lctl ping in ${result.durationMs} ms`);
    } catch (error) {
      failures.push(`${nid}: ${(error as Error).message}`);
    }
  }
  const detail = `no NID answered: ${failures.join("; ")}`;
  if (localNids.length === 0) {
    return fail(name, detail, 'LNet is not running on this node: fix "lnet nids" first');
  }
  const localNets = new Set(localNids.map(networkOf));
  const missing = node.nids.map(networkOf).filter((net) => !localNets.has(net));
  const hint = missing.length === node.nids.length
    ? `this node has no NID on network ${[...new Set(missing)].join(", ")}; add it to LNet, `
    : "";
  return fail(
    name,
    detail,
    `${hint}check that the MGS is up and reachable from this node (routes, firewall: ` +
      `TCP port 988 for tcp networks)`,
  );
}

/** "tcp" of "10.0.0.1@tcp", "o2ib1" of "x@o2ib1". */
function networkOf(nid: string): string {
  return nid.slice(nid.lastIndexOf("@") + 1);
}

function firstLine(text: string): string {
  return text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
}
