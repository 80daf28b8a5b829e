/**
 * `klustre-csi doctor`: reads its flags (the driver's settings plus
 * --source and --timeout-ms), runs the checks and prints the report.
 * Exit 0 when every check passed, 1 when one failed, 2 for bad usage.
 */
import { parseArgs } from "node:util";
import { ConfigError, type ConfigSources, parseConfig, settingFlagOptions } from "../config.ts";
import type { CommandRunner, LaunchDescriber } from "../exec/command_runner.ts";
import { type LustreSource, parseLustreSource } from "../lustre/source.ts";
import { failed, formatReport } from "./check_result.ts";
import { readTuningRecords } from "../node/client_tuning.ts";
import { runDoctor } from "./doctor.ts";
import { parseMountInfo } from "../mount/mountinfo.ts";
import { rootSquashReason } from "../controller/root_squash.ts";

/** Help of `klustre-csi doctor`. */
export const DOCTOR_USAGE = `Usage: klustre-csi doctor [flags]

Checks this node's Lustre prerequisites and prints one line per check,
"PASS|FAIL|SKIP <check>: <detail>", with a "fix:" line under each failure.
A check that needs a tool which is missing or broken is skipped ("SKIP
lustre modules: needs lctl: ..."): the tool's own check is the cause.
Exit status: 0 nothing failed, 1 something failed, 2 bad usage.

Checks: the dynamic loader and libc the Lustre tools run with (setting
hostLoader; "auto" resolves the host's inside /host); mount.lustre, lfs and
lctl present (with their version); Lustre modules loaded (lctl get_param -n
version); LNet NIDs (lctl list_nids); the MGS of every --source answering
lctl ping; the kubelet dir; the driver's socket answering Probe (when
--endpoint is given or the socket exists); root squash on every --source
whose root is mounted in this mount namespace (in the controller's
container, after its first call on that file system).

  --source MGS:/fs          A file system this node must reach, as in a PV's
                            "source" (repeat for several)
  --endpoint unix:///csi/csi.sock   The driver's socket (env CSI_ENDPOINT)
  --path-env PATH           Where to find the Lustre tools (setting pathEnv)
  --ld-library-path PATH    Their library dirs (setting ldLibraryPath)
  --host-loader auto|none|PATH   Their dynamic loader (setting hostLoader)
  --kubelet-dir DIR         Kubelet root dir (setting kubeletDir)
  --settings FILE           Read the settings file, as the node plugin does
  --timeout-ms N            Limit of each command and of Probe (default 10000)
  -h, --help                Show this help

Inside the node plugin's container:
  kubectl -n klustre-system exec ds/klustre-csi-node -c klustre-csi -- \\
    /klustre-csi doctor --settings /etc/klustre-csi/settings.yaml --source 10.0.0.1@tcp:/lustre-fs
`;

const DEFAULT_TIMEOUT_MS = 10_000;

/** The real world as the command uses it; main.ts builds it. */
export interface DoctorCommandDeps extends ConfigSources {
  readonly newRunner: (
    paths: { pathEnv: string; ldLibraryPath: string; hostLoader: string },
  ) => CommandRunner & Partial<LaunchDescriber>;
  readonly isDirectory: (path: string) => Promise<boolean>;
  /** True when the path exists (the default socket is checked only then). */
  readonly exists: (path: string) => Promise<boolean>;
  readonly probe: (endpoint: string, timeoutMs: number) => Promise<boolean>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs the command; resolves with the exit status. */
export async function runDoctorCommand(
  args: readonly string[],
  deps: DoctorCommandDeps,
): Promise<number> {
  let parsed;
  try {
    parsed = parseDoctorArgs(args, deps);
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error instanceof SyntaxError)) throw error;
    deps.stderr(`klustre-csi doctor: ${error.message}\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    deps.stdout(DOCTOR_USAGE);
    return 0;
  }
  const { config, sources, timeoutMs, endpointGiven } = parsed;
  const checkSocket = endpointGiven || await deps.exists(config.socketPath);
  const runner = deps.newRunner(config);
  const results = await runDoctor({
    sources,
    kubeletDir: config.kubeletDir,
    endpoint: checkSocket ? config.endpoint : undefined,
    timeoutMs,
    pathEnv: config.pathEnv,
  }, {
    runner,
    describe: runner.describe?.bind(runner),
    tunings: () => readTuningRecords(config.stateDir),
    isDirectory: deps.isDirectory,
    rootSquash: {
      mountInfo: async () => parseMountInfo(await Deno.readTextFile("/proc/self/mountinfo")),
      reason: (mountPath) => rootSquashReason(mountPath, timeoutMs),
    },
    probe: async (endpoint, timeoutMs) => {
      if (!(await deps.exists(config.socketPath))) {
        throw new Error(`the socket ${config.socketPath} does not exist`);
      }
      return await deps.probe(endpoint, timeoutMs);
    },
  });
  deps.stdout(formatReport(results));
  return results.some(failed) ? 1 : 0;
}

/**
 * Reads the flags; the settings flags go through the driver's own config loader.
 * @throws ConfigError or SyntaxError naming the bad flag or value
 */
function parseDoctorArgs(args: readonly string[], sources: ConfigSources) {
  const settingOptions = settingFlagOptions();
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        ...settingOptions,
        source: { type: "string", multiple: true },
        "timeout-ms": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError(`Cannot parse flags: ${(error as Error).message}`, { cause: error });
  }
  if (values.help) return "help" as const;
  const configArgs = Object.entries(values).flatMap(([key, value]) =>
    key in settingOptions && typeof value === "string" ? [`--${key}`, value] : []
  );
  const config = parseConfig("controller", configArgs, sources);
  const timeoutText = values["timeout-ms"] ?? String(DEFAULT_TIMEOUT_MS);
  const timeoutMs = /^\d+$/.test(timeoutText) ? Number(timeoutText) : NaN;
  if (!(timeoutMs >= 1 && timeoutMs <= 600_000)) {
    throw new ConfigError(`Invalid --timeout-ms "${timeoutText}": give 1 to 600000 milliseconds`);
  }
  const lustreSources: LustreSource[] = (values.source ?? []).map((text) => {
    try {
      return parseLustreSource(text);
    } catch (error) {
      throw new ConfigError(`Invalid --source "${text}": ${(error as Error).message}`);
    }
  });
  const endpointGiven = (values as Record<string, unknown>).endpoint !== undefined ||
    (sources.env.CSI_ENDPOINT ?? "") !== "";
  return { config, sources: lustreSources, timeoutMs, endpointGiven };
}
