/**
 * `klustre_csi_lustre_not_answering_since_seconds`: for each file system with
 * a Lustre mount that is not answering (the file system gate's breaker is
 * open, src/mount/fs_gate.ts), the Unix time it stopped answering. No series
 * while every mount answers. Labelled by file system name only.
 */
import { type FsGate, sourceOfGateKey } from "../mount/fs_gate.ts";
import { fsNameOf } from "./lustre_mounts.ts";
import { Gauge, type Registry } from "./prom.ts";

/** Registers the gauge on `registry`; it reads the gate at each scrape. */
export function registerNotAnswering(
  registry: Registry,
  gate: Pick<FsGate, "notAnswering">,
): Gauge<"fs"> {
  const gauge: Gauge<"fs"> = new Gauge({
    name: "klustre_csi_lustre_not_answering_since_seconds",
    help: "Unix time since when a Lustre mount of this file system does not answer; " +
      "absent while it answers",
    labelNames: ["fs"],
    registers: [registry],
    collect: () => {
      const earliest = new Map<string, number>();
      for (const { key, since } of gate.notAnswering()) {
        const fs = fsNameOf(sourceOfGateKey(key)) ?? "unknown";
        const seconds = since.getTime() / 1000;
        earliest.set(fs, Math.min(earliest.get(fs) ?? seconds, seconds));
      }
      gauge.reset();
      for (const [fs, seconds] of earliest) gauge.set({ fs }, seconds);
    },
  });
  return gauge;
}
