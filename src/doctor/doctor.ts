/** Runs every doctor check of a node and returns them in report order. */
import type { CommandRunner, ToolLaunch } from "../exec/command_runner.ts";
import type { LustreSource } from "../lustre/source.ts";
import { type CheckResult, skip } from "./check_result.ts";
import {
  checkMgs,
  checkModules,
  checkNids,
  checkTool,
  LUSTRE_TOOLS,
  mgsCheckName,
  mgsNodesOf,
} from "./lustre_checks.ts";
import { checkToolLoader } from "./loader_check.ts";
import { checkKubeletDir, checkSocket } from "./node_checks.ts";
import { checkRootSquash, type RootSquashCheckDeps } from "./root_squash_check.ts";
import { type AppliedTuning, checkTunings } from "./tuning_check.ts";

/** What to check. */
export interface DoctorOptions {
  /** File systems whose MGS must answer. */
  readonly sources: readonly LustreSource[];
  readonly kubeletDir: string;
  /** The driver's socket; undefined skips the socket check. */
  readonly endpoint?: string;
  /** Limit of each command and of the Probe call. */
  readonly timeoutMs: number;
  readonly pathEnv: string;
}

/** The outside world the checks touch. */
export interface DoctorDeps {
  readonly runner: CommandRunner;
  readonly isDirectory: (path: string) => Promise<boolean>;
  /** Calls Probe on the endpoint; resolves with `ready`. */
  readonly probe: (endpoint: string, timeoutMs: number) => Promise<boolean>;
  /** How the runner starts a tool; undefined skips the "host loader" check. */
  readonly describe?: (command: string) => Promise<ToolLaunch>;
  /** Reads mounts and probes root squash; undefined skips the "root squash" checks. */
  readonly rootSquash?: RootSquashCheckDeps;
  /** The client tunables the node plugin applied; undefined skips the "client tunables" check. */
  readonly tunings?: () => Promise<readonly AppliedTuning[]>;
}

/** Runs the checks (independent ones at once) and lists them in a fixed order. */
export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<CheckResult[]> {
  const lustre = { runner: deps.runner, timeoutMs: options.timeoutMs, pathEnv: options.pathEnv };
  const [loader, tools, kubelet, socket] = await Promise.all([
    deps.describe && checkToolLoader(LUSTRE_TOOLS[0][0], deps.describe),
    Promise.all(LUSTRE_TOOLS.map(([tool, flag]) => checkTool(tool, flag, lustre))),
    checkKubeletDir(options.kubeletDir, deps.isDirectory),
    options.endpoint === undefined
      ? undefined
      : checkSocket(options.endpoint, (endpoint) => deps.probe(endpoint, options.timeoutMs)),
  ]);
  const nodes = mgsNodesOf(options.sources);
  // Modules, LNet and MGS are all asked through lctl: without it they are
  // skipped, not blamed (the cause is the "tool lctl" failure above them).
  const lctl = tools.find((t) => t.name === "tool lctl");
  const lctlProblem = lctl && !lctl.ok ? lctl.detail : undefined;
  if (lctlProblem !== undefined) {
    return [
      ...(loader ? [loader] : []),
      ...tools,
      skip("lustre modules", "lctl", lctlProblem),
      skip("lnet nids", "lctl", lctlProblem),
      ...nodes.map((node) => skip(mgsCheckName(node), "lctl", lctlProblem)),
      kubelet,
      ...(socket ? [socket] : []),
    ];
  }
  const modules = await checkModules(lustre);
  const nids = await checkNids(lustre, modules.ok);
  const mgs = await Promise.all(nodes.map((node) => checkMgs(node, nids.nids, lustre)));
  const squash = deps.rootSquash;
  const squashes = squash
    ? (await Promise.all(options.sources.map((source) => checkRootSquash(source, squash))))
      .filter((r): r is CheckResult => r !== undefined)
    : [];
  // Shown only on a node with tuned shared mounts.
  const tunings = deps.tunings ? await deps.tunings() : [];
  const tuning = tunings.length > 0 ? await checkTunings(tunings, lustre) : undefined;
  return [
    ...(loader ? [loader] : []),
    ...tools,
    modules,
    nids.result,
    ...mgs,
    ...squashes,
    ...(tuning ? [tuning] : []),
    kubelet,
    ...(socket ? [socket] : []),
  ];
}
