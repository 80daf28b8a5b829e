/**
 * The driver's Prometheus metrics: the MetricsHook implementation the unary
 * wrapper, the command runner and the node handlers report to, plus the
 * gauges computed at scrape time. Labels are method, code, command and file
 * system name only: never volume IDs, volume context or secrets. The
 * registry and the text format are prom-client's (loaded by metrics/prom.ts).
 */
import type { MetricsHook } from "../metrics.ts";
import type { MountInfo } from "../mount/mountinfo.ts";
import { Counter, Gauge, Histogram, Registry } from "./prom.ts";
import { countLustreMounts } from "./lustre_mounts.ts";

/** Bucket bounds of operation durations, in seconds (mounts may take 100 s). */
export const DURATION_BUCKETS_S = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

/** What the scrape-time gauges read. */
export interface DriverMetricsDeps {
  /** The mount table of the driver's mount namespace. */
  readonly mountInfo: () => Promise<MountInfo[]>;
  /** `<stateDir>/mounts`, where the shared Lustre mounts live. */
  readonly mountsDir: string;
  readonly version: string;
  /** Whether the Lustre client is usable now (klustre_csi_lustre_client_ready). */
  readonly lustreClientReady?: () => Promise<boolean>;
}

/** The Prometheus side of the MetricsHook. */
export class DriverMetrics implements MetricsHook {
  readonly registry = new Registry();
  readonly operations: Counter<"method" | "code">;
  readonly durations: Histogram<"method">;
  readonly inFlight: Gauge<"method">;
  readonly timeouts: Counter<"command">;
  readonly lustreMounts: Gauge<"fs">;
  readonly abnormal: Gauge;
  readonly lustreClientReady: Gauge;
  readonly buildInfo: Gauge<"version">;
  readonly #deps: DriverMetricsDeps;
  readonly #abnormalVolumes = new Set<string>();
  readonly #seenFileSystems = new Set<string>();

  constructor(deps: DriverMetricsDeps) {
    this.#deps = deps;
    const registers = [this.registry];
    this.operations = new Counter({
      name: "klustre_csi_operations_total",
      help: "CSI calls served, by method and gRPC code",
      labelNames: ["method", "code"],
      registers,
    });
    this.durations = new Histogram({
      name: "klustre_csi_operation_duration_seconds",
      help: "Time to answer a CSI call, by method",
      labelNames: ["method"],
      buckets: DURATION_BUCKETS_S,
      registers,
    });
    this.inFlight = new Gauge({
      name: "klustre_csi_operations_in_flight",
      help: "CSI calls being served now, by method",
      labelNames: ["method"],
      registers,
    });
    this.timeouts = new Counter({
      name: "klustre_csi_command_timeouts_total",
      help: "External commands (mount.lustre, lfs, lctl) killed at their timeout",
      labelNames: ["command"],
      registers,
    });
    const collectMounts = () => this.#collectMounts();
    this.lustreMounts = new Gauge({
      name: "klustre_csi_lustre_mounts",
      help: "Lustre client mounts the driver holds on this node, by file system",
      labelNames: ["fs"],
      registers,
      collect: collectMounts,
    });
    this.abnormal = new Gauge({
      name: "klustre_csi_volumes_abnormal",
      help: "Volumes whose last NodeGetVolumeStats reported an abnormal condition",
      registers,
    });
    const clientReady = deps.lustreClientReady;
    this.lustreClientReady = new Gauge({
      name: "klustre_csi_lustre_client_ready",
      help: "1 when the Lustre client is usable (mount.lustre runs, the modules answer), else 0",
      registers,
      collect: clientReady
        ? async () => this.lustreClientReady.set(await clientReady() ? 1 : 0)
        : undefined,
    });
    this.buildInfo = new Gauge({
      name: "klustre_csi_build_info",
      help: "Always 1; the driver's version is a label",
      labelNames: ["version"],
      registers,
    });
    this.buildInfo.set({ version: deps.version }, 1);
    this.abnormal.set(0);
    this.lustreClientReady.set(0);
    // Series exist from the start, so rate() and alerts see 0 rather than nothing.
    for (const command of ["mount.lustre", "lfs", "lctl"]) this.timeouts.inc({ command }, 0);
  }

  rpcDone(method: string, code: string, durationMs: number): void {
    this.operations.inc({ method, code });
    this.durations.observe({ method }, durationMs / 1000);
  }

  rpcInFlight(method: string, delta: number): void {
    this.inFlight.inc({ method }, delta);
  }

  commandTimedOut(command: string): void {
    this.timeouts.inc({ command });
  }

  volumeChecked(volumeId: string, abnormal: boolean): void {
    if (abnormal) this.#abnormalVolumes.add(volumeId);
    else this.#abnormalVolumes.delete(volumeId);
    this.abnormal.set(this.#abnormalVolumes.size);
  }

  volumeForgotten(volumeId: string): void {
    this.volumeChecked(volumeId, false);
  }

  /** The text exposition, with the scrape-time gauges freshly computed. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** File systems seen once stay at 0, so their graphs drop instead of vanishing. */
  async #collectMounts(): Promise<void> {
    const counts = countLustreMounts(await this.#deps.mountInfo(), this.#deps.mountsDir);
    for (const fs of counts.keys()) this.#seenFileSystems.add(fs);
    for (const fs of this.#seenFileSystems) this.lustreMounts.set({ fs }, counts.get(fs) ?? 0);
  }
}
