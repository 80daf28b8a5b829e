/**
 * Which of `node` and `controller` uses each setting, so `controller --help`
 * lists only what the controller reads. Both accept every setting (one
 * settings file serves both); the other's settings are ignored.
 */
import type { Mode } from "./config.ts";
import type { SettingKey } from "./settings.ts";

const BOTH: readonly Mode[] = ["node", "controller"];
const NODE: readonly Mode[] = ["node"];

/** The modes that read each setting. */
export const SETTING_MODES: Readonly<Record<SettingKey, readonly Mode[]>> = {
  endpoint: BOTH,
  nodeId: NODE,
  logLevel: BOTH,
  kubeletDir: BOTH,
  stateDir: BOTH,
  pathEnv: BOTH,
  ldLibraryPath: BOTH,
  hostLoader: BOTH,
  mountTimeoutMs: BOTH,
  unmountTimeoutMs: BOTH,
  commandTimeoutMs: BOTH,
  probeTimeoutMs: BOTH,
  probeCacheMs: BOTH,
  shutdownGraceMs: BOTH,
  defaultMountOptions: BOTH,
  metricsAddress: BOTH,
  controllerService: NODE,
  hostMountInfo: NODE,
  allowSuidDevVolumes: NODE,
  hostMountNamespace: NODE,
  hangProbeMs: BOTH,
};

/** True when `mode` reads the setting. */
export function usedBy(key: SettingKey, mode: Mode): boolean {
  return SETTING_MODES[key].includes(mode);
}
