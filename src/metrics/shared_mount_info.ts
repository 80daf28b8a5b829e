/**
 * `klustre_csi_shared_mount_info`: one series per shared Lustre mount (value
 * 1) naming its mount directory, file system and the client tunables
 * (`lustreParams`) applied to its instance ("" for none). The tunables come
 * from a StorageClass or PV, never from a volume ID or secret.
 */
import type { MountInfo } from "../mount/mountinfo.ts";
import { fsNameOf } from "./lustre_mounts.ts";
import { Gauge, type Registry } from "./prom.ts";

/** What the gauge reads at scrape time. */
export interface SharedMountInfoDeps {
  /** The mount table holding the shared mounts. */
  readonly mountInfo: () => Promise<MountInfo[]>;
  /** Directory of the shared mounts in that table. */
  readonly mountsDir: string;
  /** Tunables applied per shared mount directory name. */
  readonly tunings: () => Promise<readonly { mount: string; params: readonly string[] }[]>;
}

/** Registers the gauge on `registry`; it is computed at each scrape. */
export function registerSharedMountInfo(
  registry: Registry,
  deps: SharedMountInfoDeps,
): Gauge<"mount" | "fs" | "lustre_params"> {
  const gauge: Gauge<"mount" | "fs" | "lustre_params"> = new Gauge({
    name: "klustre_csi_shared_mount_info",
    help: "Always 1 per shared Lustre mount (client instance); its client tunables are a label",
    labelNames: ["mount", "fs", "lustre_params"],
    registers: [registry],
    collect: async () => {
      const prefix = `${deps.mountsDir}/`;
      const tunings = new Map((await deps.tunings()).map((t) => [t.mount, t.params.join(",")]));
      gauge.reset();
      for (const m of await deps.mountInfo()) {
        const name = m.mountPoint.startsWith(prefix) ? m.mountPoint.slice(prefix.length) : "";
        if (name === "" || name.includes("/")) continue;
        gauge.set({
          mount: name,
          fs: fsNameOf(m.source) ?? name.replace(/-[0-9a-f]{16}$/, ""),
          lustre_params: tunings.get(name) ?? "",
        }, 1);
      }
    },
  });
  return gauge;
}
