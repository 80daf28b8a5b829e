/**
 * Metrics of the PCC cache directories (hotNodes), labelled by the cache
 * directory (a node-local path from the StorageClass, never a volume ID):
 * bytes and files cached at the last scan, purges run, files they detached.
 */
import type { PccMetricsHook } from "../node/pcc_purge.ts";
import { Counter, Gauge, type Registry } from "./prom.ts";

/** Registers the PCC metrics on `registry`; the purge loop reports to the returned hook. */
export function registerPccMetrics(registry: Registry): PccMetricsHook {
  const registers = [registry];
  const bytes = new Gauge({
    name: "klustre_csi_pcc_cache_bytes",
    help: "Bytes of cached copies in a PCC cache directory at its last purge check",
    labelNames: ["cache"],
    registers,
  });
  const files = new Gauge({
    name: "klustre_csi_pcc_cached_files",
    help: "Files cached in a PCC cache directory at its last purge check",
    labelNames: ["cache"],
    registers,
  });
  const purged = new Counter({
    name: "klustre_csi_pcc_purged_files_total",
    help: "Files detached from a PCC cache directory by the purge (least recently used first)",
    labelNames: ["cache"],
    registers,
  });
  const purges = new Counter({
    name: "klustre_csi_pcc_purges_total",
    help: "Purges of a PCC cache directory: checks that found it above pccPurgeHighUsage",
    labelNames: ["cache"],
    registers,
  });
  return {
    cacheScanned(cache, byteCount, fileCount) {
      bytes.set({ cache }, byteCount);
      files.set({ cache }, fileCount);
      purged.inc({ cache }, 0);
      purges.inc({ cache }, 0);
    },
    purged(cache, count) {
      purges.inc({ cache });
      purged.inc({ cache }, count);
    },
  };
}
