/** The benchmark's results: their JSON shape and the markdown table of bench/results.md. */
import type { LatencyResult, StormResult } from "./scenarios.ts";
import type { LatencySummary } from "./stats.ts";
import type { StatsScaleResult } from "./stats_scale.ts";

/** Everything one run measured (bench/results.json). */
export interface BenchResults {
  readonly generatedAt: string;
  readonly environment: {
    /** "Lustre simulator" or the real source. */
    readonly target: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly kernel: string;
    readonly deno: string;
    readonly driverVersion: string;
  };
  readonly settings: {
    readonly samples: number;
    readonly concurrency: number;
    readonly rounds: number;
    readonly pods: number;
    readonly startupRuns: number;
  };
  readonly startup: {
    /** The warm-up start, which may include compiling TypeScript. */
    readonly coldMs: number;
    readonly runsMs: readonly number[];
    readonly medianMs: number;
  };
  readonly memory: {
    readonly idleRssMiB: number;
    /** Idle with the keeper namespace (--host-mount-namespace, as the DaemonSet runs). */
    readonly keeperIdleRssMiB?: number;
    readonly stormPeakRssMiB: number;
    /** One second after the storm's teardown. */
    readonly afterStormRssMiB: number;
    /** Threads of the driver process, idle and after the storm. */
    readonly idleThreads: number;
    readonly afterStormThreads: number;
    /** Seconds waited after the teardown before the settled sample (--settle-seconds). */
    readonly settleSeconds?: number;
    /** VmRSS and threads settleSeconds after the storm's teardown. */
    readonly settledRssMiB?: number;
    readonly settledThreads?: number;
  };
  /** Deno flags the driver ran with (the `node` task's, as the image is compiled). */
  readonly denoFlags?: readonly string[];
  /** What deno ran: the bundle of `module` (`deno bundle`, as in the image) or `module` itself. */
  readonly entry?: { readonly kind: "bundle" | "source"; readonly module: string };
  /** The results file this run replaced, for comparison. */
  readonly previous?: Comparison;
  readonly sequential: LatencyResult;
  readonly concurrent: LatencyResult;
  readonly storm: StormResult;
  /** NodeGetVolumeStats of many published volumes (absent in older results). */
  readonly statsScale?: StatsScaleResult;
  readonly totalSeconds: number;
}

/** Latency figures of the results this run replaced. */
export interface Comparison {
  readonly generatedAt: string;
  readonly sequentialPublishP50Ms: number;
  readonly stormWallMs: number;
  readonly idleRssMiB: number;
  readonly stormPeakRssMiB: number;
}

/** The figures of an earlier results.json that a new run is compared with. */
export function comparisonOf(previous: BenchResults): Comparison {
  return {
    generatedAt: previous.generatedAt,
    sequentialPublishP50Ms: previous.sequential.publish.p50Ms,
    stormWallMs: previous.storm.wallMs,
    idleRssMiB: previous.memory.idleRssMiB,
    stormPeakRssMiB: previous.memory.stormPeakRssMiB,
  };
}

/** "now (before: x, +d%)" lines comparing a run with the one it replaced. */
export function formatComparison(r: BenchResults): string[] {
  const p = r.previous;
  if (!p) return [];
  const line = (what: string, now: number, before: number, unit: string) => {
    const change = before > 0 ? Math.round((now - before) / before * 100) : 0;
    return `${what}: ${now} ${unit} (previous ${before} ${unit}, ${
      change >= 0 ? "+" : ""
    }${change}%)`;
  };
  return [
    line("Sequential publish p50", r.sequential.publish.p50Ms, p.sequentialPublishP50Ms, "ms"),
    line(`${r.storm.pods}-pod storm wall time`, r.storm.wallMs, p.stormWallMs, "ms"),
    line("Idle VmRSS", r.memory.idleRssMiB, p.idleRssMiB, "MiB"),
    line("Storm peak VmRSS", r.memory.stormPeakRssMiB, p.stormPeakRssMiB, "MiB"),
  ];
}

function statsRows(s: StatsScaleResult | undefined): [string, string][] {
  if (!s) return [];
  const passRow = (
    name: string,
    p: StatsScaleResult["cold"],
    at = s.concurrency,
  ): [string, string] => [
    `NodeGetVolumeStats of ${s.volumes} volumes, ${at} at once, ${name}: wall, p50 / p99, driver CPU`,
    `${p.wallMs} ms, ${
      pair(p.latency)
    }, ${p.cpuSeconds} s; ${p.errors} errors, ${p.abnormal} abnormal`,
  ];
  return [
    passRow("cold", s.cold),
    passRow("warm", s.warm),
    ...(s.warmSequential ? [passRow("warm", s.warmSequential, 1)] : []),
    ...(s.grpcFloor
      ? [[
        `GetPluginInfo (does nothing: gRPC's own cost), ${s.volumes} calls, ${s.concurrency} at once: wall, p50 / p99, driver CPU`,
        `${s.grpcFloor.wallMs} ms, ${pair(s.grpcFloor.latency)}, ${s.grpcFloor.cpuSeconds} s`,
      ] as [string, string]]
      : []),
    [`Resident memory (VmRSS) with the ${s.volumes} volumes published`, `${s.rssMiB} MiB`],
    [
      `NodeGetVolumeStats: lfs runs over all passes (most for one volume)`,
      s.lfsCalls === undefined ? "not counted" : `${s.lfsCalls} (${s.maxLfsPerVolume})`,
    ],
  ];
}

function pair(s: LatencySummary): string {
  return `${s.p50Ms} / ${s.p99Ms} ms (max ${s.maxMs})`;
}

/** bench/results.md: the environment, then one table row per measure. */
export function formatMarkdown(r: BenchResults): string {
  const e = r.environment;
  const { samples, concurrency, rounds, pods, startupRuns } = r.settings;
  const rows: [string, string][] = [
    [
      `NodePublishVolume p50 / p99, sequential (n=${r.sequential.publish.n})`,
      pair(r.sequential.publish),
    ],
    [
      `NodeUnpublishVolume p50 / p99, sequential (n=${r.sequential.unpublish.n})`,
      pair(r.sequential.unpublish),
    ],
    [
      `NodePublishVolume p50 / p99, ${concurrency} at once (n=${r.concurrent.publish.n})`,
      pair(r.concurrent.publish),
    ],
    [
      `NodeUnpublishVolume p50 / p99, ${concurrency} at once (n=${r.concurrent.unpublish.n})`,
      pair(r.concurrent.unpublish),
    ],
    [`Errors in the latency runs`, String(r.sequential.errors + r.concurrent.errors)],
    [
      `Publish storm, ${pods} pods on one volume: wall time (stage + all publishes)`,
      `${r.storm.wallMs} ms`,
    ],
    [`Publish storm: NodeStageVolume (the one Lustre mount)`, `${r.storm.stageMs} ms`],
    [`Publish storm: NodePublishVolume p50 / p99 under the storm`, pair(r.storm.publish)],
    [`Publish storm: Lustre mounts made`, String(r.storm.lustreMounts)],
    [`Publish storm: errors`, String(r.storm.errors)],
    [
      `Publish storm: teardown (${pods} unpublishes at once + unstage)`,
      `${r.storm.teardownMs} ms, ${r.storm.teardownErrors} errors`,
    ],
    [`Resident memory (VmRSS), idle`, `${r.memory.idleRssMiB} MiB`],
    ...(r.memory.keeperIdleRssMiB === undefined ? [] : [[
      `Resident memory (VmRSS), idle with the keeper namespace (the DaemonSet's form)`,
      `${r.memory.keeperIdleRssMiB} MiB`,
    ] as [string, string]]),
    [
      `Resident memory (VmRSS), storm peak (${r.storm.rssSamples} samples)`,
      `${r.memory.stormPeakRssMiB} MiB`,
    ],
    [`Resident memory (VmRSS), 1 s after the storm's teardown`, `${r.memory.afterStormRssMiB} MiB`],
    [
      `Driver threads, idle / 1 s after the storm`,
      `${r.memory.idleThreads} / ${r.memory.afterStormThreads}`,
    ],
    ...(r.memory.settledRssMiB === undefined ? [] : [
      [
        `Resident memory (VmRSS) / threads, ${r.memory.settleSeconds} s after the storm's teardown`,
        `${r.memory.settledRssMiB} MiB / ${r.memory.settledThreads}`,
      ] as [string, string],
    ]),
    ...statsRows(r.statsScale),
    [
      `Process start to Probe ready, median of ${startupRuns}`,
      `${r.startup.medianMs} ms (runs: ${
        r.startup.runsMs.join(", ")
      }; warm-up ${r.startup.coldMs})`,
    ],
  ];
  return [
    "# klustre-csi benchmark",
    "",
    `Written by \`deno task bench\` on ${r.generatedAt} in ${r.totalSeconds} s.`,
    `Target: ${e.target}. Machine: ${e.cpus} x ${e.cpuModel}, Linux ${e.kernel}, ` +
    `Deno ${e.deno}. Driver: klustre-csi ${e.driverVersion}${ranWhat(r.entry)} run by ` +
    `\`deno run ${(r.denoFlags ?? ["--allow-all"]).join(" ")}\` (the image's flags), ` +
    `log level info.`,
    `Latency runs: ${samples} sequential publishes then unpublishes; ${rounds} rounds of ` +
    `${concurrency} at once. Times are client-side, from call to answer over the unix socket.`,
    "",
    ...formatTable(["Measure", "Result"], rows),
    "",
    ...(r.previous
      ? [
        `Compared with the previous results (${r.previous.generatedAt}):`,
        "",
        ...formatComparison(r).map((l) => `- ${l}`),
        "",
      ]
      : []),
  ].join("\n");
}

/** ", the bundle of src/main.ts (...)," for the header: what `deno run` ran. */
function ranWhat(entry: BenchResults["entry"]): string {
  if (!entry) return "";
  return entry.kind === "bundle"
    ? `, the bundle of ${entry.module} (\`deno bundle\`, which the image is compiled from),`
    : `, ${entry.module} from source (not the image's bundle),`;
}

/** A markdown table with padded columns, as `deno fmt` writes it. */
export function formatTable(header: [string, string], rows: [string, string][]): string[] {
  const widths = [0, 1].map((i) => Math.max(3, ...[header, ...rows].map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}
