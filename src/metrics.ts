/**
 * The metrics hook the unary wrapper, the command runner and the node
 * handlers report to. The Prometheus implementation (metrics/driver_metrics.ts)
 * plugs in here; NOOP_METRICS records nothing.
 */

/** Receives one event per RPC, per external command and per volume check. */
export interface MetricsHook {
  /** An RPC finished with `code` (a gRPC code name) after durationMs. */
  rpcDone(method: string, code: string, durationMs: number): void;
  /** An RPC started (+1) or finished (-1). */
  rpcInFlight(method: string, delta: number): void;
  /** An external command passed its timeout. */
  commandTimedOut(command: string): void;
  /** NodeGetVolumeStats found the volume normal or abnormal. */
  volumeChecked(volumeId: string, abnormal: boolean): void;
  /** The volume left this node (unstaged); its last condition no longer counts. */
  volumeForgotten(volumeId: string): void;
}

/** A hook that records nothing. */
export const NOOP_METRICS: MetricsHook = {
  rpcDone() {},
  rpcInFlight() {},
  commandTimedOut() {},
  volumeChecked() {},
  volumeForgotten() {},
};
