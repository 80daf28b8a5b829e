/** Help text for the subcommands, built from the settings table. */
import { SETTINGS } from "./settings.ts";
import { SETTINGS_ENV, SETTINGS_FLAG } from "./config.ts";
import { DRIVER_NAME, DRIVER_VERSION } from "./version.ts";
import { usedBy } from "./setting_modes.ts";

/** Top-level usage. */
export function mainUsage(): string {
  return `klustre-csi ${DRIVER_VERSION}: the ${DRIVER_NAME} CSI driver for Lustre

Usage: klustre-csi <command> [flags]

Commands:
  node         Serve CSI Identity and Node on the kubelet socket (DaemonSet)
  controller   Serve CSI Identity and Controller for dynamic provisioning
  doctor       Check this node's Lustre prerequisites and print what is missing
  pv           Generate static PV and PVC manifests from an inventory file
  version      Print the driver name, version and CSI version

Run "klustre-csi <command> --help" for the flags of a command.
`;
}

/** Usage of `node` and `controller`: each setting the command uses, with its sources and default. */
export function serveUsage(command: "node" | "controller"): string {
  const unused = SETTINGS.filter((s) => !usedBy(s.key, command)).map((s) => s.key);
  const lines = SETTINGS.filter((s) => usedBy(s.key, command)).map((s) => {
    const flag = `--${s.flag}`.padEnd(26);
    const env = s.env.join(", ");
    const def = s.defaultValue === "" ? "none" : `"${s.defaultValue}"`;
    return `  ${flag}${s.help}\n  ${"".padEnd(26)}env ${env}; file key ${s.key}; default ${def}`;
  });
  const what = command === "node"
    ? "Serve CSI Identity and Node services on a unix socket (run on every Lustre node)."
    : "Serve CSI Identity and Controller services on a unix socket (one replica per cluster).";
  return `Usage: klustre-csi ${command} [flags]

${what}

Precedence: flag, then environment, then the settings file, then the default.

  --${SETTINGS_FLAG.padEnd(24)}YAML settings file (the klustre-csi-settings ConfigMap)
  ${"".padEnd(26)}env ${SETTINGS_ENV}
${lines.join("\n")}
  -h, --help                Show this help
${
    unused.length === 0
      ? ""
      : `\nAccepted and ignored here (settings of the node plugin): ${unused.join(", ")}.\n`
  }`;
}
