/**
 * The metrics hook the unary wrapper and the command runner report to.
 * The Prometheus implementation plugs in here; NOOP_METRICS records nothing.
 */

/** Receives one event per RPC and per external command. */
export interface MetricsHook {
  /** An RPC finished with `code` (a gRPC code name) after durationMs. */
  rpcDone(method: string, code: string, durationMs: number): void;
  /** An RPC started (+1) or finished (-1). */
  rpcInFlight(method: string, delta: number): void;
  /** An external command passed its timeout. */
  commandTimedOut(command: string): void;
}

/** A hook that records nothing. */
export const NOOP_METRICS: MetricsHook = {
  rpcDone() {},
  rpcInFlight() {},
  commandTimedOut() {},
};
