/** Campaign fault operations: the simulator's faults and kill -9 + restart of the driver. */
import type { NodeEnv } from "../node_env.ts";
import type { Op } from "./model.ts";

/** Applies the fault `op` names ("evict fs1", "slow-all 500", "restart", ...). */
export async function applyFault(env: NodeEnv, op: Op): Promise<void> {
  const [kind, a] = op.split(" ");
  switch (kind) {
    case "evict":
    case "freeze":
    case "thaw":
      return await env.sim.fault(kind, a);
    case "mgs-down":
      return await env.sim.fault("mgs-down", "--delay-ms", a);
    case "mgs-up":
      return await env.sim.fault("mgs-up");
    case "slow":
    case "slow-all":
      if (a === "off") return await env.sim.fault("slow", "off");
      return await env.sim.fault(
        "slow",
        "--delay-ms",
        a,
        ...(kind === "slow-all" ? ["--cmd", "all"] : []),
      );
    case "modules-missing":
      return await env.sim.fault("modules-missing", a);
    case "restart":
      // A new mount namespace, as a restarted DaemonSet container gets.
      await env.driver.stop("SIGKILL");
      await env.start();
      return;
    default:
      throw new Error(`Not a fault: "${op}"`);
  }
}

/** The faults that undo everything still in force, in the model's terms. */
export function clearingFaults(state: {
  frozen: ReadonlyMap<string, number>;
  mgsDown: boolean;
  slow: boolean;
  modulesMissing: boolean;
}): Op[] {
  return [
    ...[...state.frozen.keys()].map((fs) => `thaw ${fs}`),
    ...(state.mgsDown ? ["mgs-up"] : []),
    ...(state.slow ? ["slow off"] : []),
    ...(state.modulesMissing ? ["modules-missing off"] : []),
  ];
}
