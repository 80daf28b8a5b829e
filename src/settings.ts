/**
 * The table of every setting: its flag, environment variable, YAML key,
 * type, default and meaning. Config parsing, `--help` and the docs all read
 * it, so a setting exists in exactly one place.
 */

/** How a setting's raw text becomes a value. */
export type SettingKind =
  | "string"
  | "path"
  | "endpoint"
  | "duration"
  | "level"
  | "options"
  | "boolean";

/** One configurable setting. */
export interface Setting {
  /** camelCase key in the settings YAML and in Config. */
  readonly key: SettingKey;
  /** kebab-case flag without the leading dashes. */
  readonly flag: string;
  /** Environment variables, first match wins. */
  readonly env: readonly string[];
  readonly kind: SettingKind;
  readonly defaultValue: string;
  readonly help: string;
}

/** The keys a settings file may hold. */
export type SettingKey =
  | "endpoint"
  | "nodeId"
  | "logLevel"
  | "kubeletDir"
  | "stateDir"
  | "pathEnv"
  | "ldLibraryPath"
  | "hostLoader"
  | "mountTimeoutMs"
  | "unmountTimeoutMs"
  | "commandTimeoutMs"
  | "probeTimeoutMs"
  | "probeCacheMs"
  | "shutdownGraceMs"
  | "defaultMountOptions"
  | "metricsAddress"
  | "controllerService"
  | "hostMountInfo"
  | "allowSuidDevVolumes"
  | "hostMountNamespace"
  | "hangProbeMs";

/** Every setting, in documentation order. */
export const SETTINGS: readonly Setting[] = [
  {
    key: "endpoint",
    flag: "endpoint",
    env: ["CSI_ENDPOINT"],
    kind: "endpoint",
    defaultValue: "unix:///csi/csi.sock",
    help: "CSI socket, unix:///path/to/csi.sock",
  },
  {
    key: "nodeId",
    flag: "node-id",
    env: ["KUBE_NODE_NAME", "KLUSTRE_NODE_ID"],
    kind: "string",
    defaultValue: "",
    help: "Node name reported by NodeGetInfo (required for `node`)",
  },
  {
    key: "logLevel",
    flag: "log-level",
    env: ["KLUSTRE_LOG_LEVEL"],
    kind: "level",
    defaultValue: "info",
    help: "trace, debug, info, warning or error",
  },
  {
    key: "kubeletDir",
    flag: "kubelet-dir",
    env: ["KLUSTRE_KUBELET_DIR"],
    kind: "path",
    defaultValue: "/var/lib/kubelet",
    help: "Kubelet root directory; staging and target paths must lie below it",
  },
  {
    key: "stateDir",
    flag: "state-dir",
    env: ["KLUSTRE_STATE_DIR"],
    kind: "path",
    defaultValue: "/var/lib/klustre-csi",
    help: "Where the driver mounts each Lustre file system once per node",
  },
  {
    key: "pathEnv",
    flag: "path-env",
    env: ["KLUSTRE_PATH_ENV"],
    kind: "string",
    defaultValue: "/host/usr/sbin:/host/sbin:/host/usr/bin:/usr/sbin:/sbin:/usr/bin:/bin",
    help: "PATH used to find the host's mount.lustre, lfs and lctl",
  },
  {
    key: "ldLibraryPath",
    flag: "ld-library-path",
    env: ["KLUSTRE_LD_LIBRARY_PATH"],
    kind: "string",
    defaultValue:
      "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu:/host/lib64:/host/usr/lib64:/host/lib:/host/usr/lib:/host/lib/x86_64-linux-gnu:/host/usr/lib/x86_64-linux-gnu:/host/lib/aarch64-linux-gnu:/host/usr/lib/aarch64-linux-gnu",
    help:
      "Library dirs of the host's Lustre tools: with hostLoader auto only those under /host (resolved inside /host); with the image's loader, LD_LIBRARY_PATH (the image's libc first)",
  },
  {
    key: "hostLoader",
    flag: "host-loader",
    env: ["KLUSTRE_HOST_LOADER"],
    kind: "string",
    defaultValue: "auto",
    help:
      "Dynamic loader of host tools: auto (tools under /host run with the host's loader and libc, found inside /host through its own symlinks), none (the image's), or a loader path",
  },
  {
    key: "mountTimeoutMs",
    flag: "mount-timeout-ms",
    env: ["KLUSTRE_MOUNT_TIMEOUT_MS"],
    kind: "duration",
    defaultValue: "100000",
    help: "Limit for one mount.lustre run; at most 119999, below kubelet's 2 min RPC deadline",
  },
  {
    key: "unmountTimeoutMs",
    flag: "unmount-timeout-ms",
    env: ["KLUSTRE_UNMOUNT_TIMEOUT_MS"],
    kind: "duration",
    defaultValue: "10000",
    help: "Limit for each step of the unmount cascade (plain, force, lazy)",
  },
  {
    key: "commandTimeoutMs",
    flag: "command-timeout-ms",
    env: ["KLUSTRE_COMMAND_TIMEOUT_MS"],
    kind: "duration",
    defaultValue: "30000",
    help: "Limit for lfs and lctl runs and file-system checks",
  },
  {
    key: "probeTimeoutMs",
    flag: "probe-timeout-ms",
    env: ["KLUSTRE_PROBE_TIMEOUT_MS"],
    kind: "duration",
    defaultValue: "5000",
    help: "Limit for the Lustre client check (client gauge, NodeStage, version for unique_fsid)",
  },
  {
    key: "probeCacheMs",
    flag: "probe-cache-ms",
    env: ["KLUSTRE_PROBE_CACHE_MS"],
    kind: "duration",
    defaultValue: "10000",
    help: "How long a ready Lustre client check is reused (a not-ready one is checked again)",
  },
  {
    key: "shutdownGraceMs",
    flag: "shutdown-grace-ms",
    env: ["KLUSTRE_SHUTDOWN_GRACE_MS"],
    kind: "duration",
    defaultValue: "20000",
    help: "How long SIGTERM waits for in-flight calls before exiting",
  },
  {
    key: "defaultMountOptions",
    flag: "default-mount-options",
    env: ["KLUSTRE_DEFAULT_MOUNT_OPTIONS"],
    kind: "options",
    defaultValue: "flock,user_xattr",
    help: "Lowest-precedence mount options; a volume's options replace those of the same family",
  },
  {
    key: "metricsAddress",
    flag: "metrics-address",
    env: ["KLUSTRE_METRICS_ADDRESS"],
    kind: "string",
    defaultValue: "",
    help: "HOST:PORT for /metrics and /healthz; empty turns the server off",
  },
  {
    key: "controllerService",
    flag: "controller-service",
    env: ["KLUSTRE_CONTROLLER_SERVICE"],
    kind: "boolean",
    defaultValue: "false",
    help: "true when the deployment runs the controller: the node plugin then also reports " +
      "CONTROLLER_SERVICE, so every instance reports one capability set",
  },
  {
    key: "hostMountInfo",
    flag: "host-mountinfo",
    env: ["KLUSTRE_HOST_MOUNTINFO"],
    kind: "string",
    defaultValue: "/proc/1/mountinfo",
    help:
      "The host's mount table (needs hostPID), read so a host mount of a file system is seen when staging; empty turns it off",
  },
  {
    key: "allowSuidDevVolumes",
    flag: "allow-suid-dev-volumes",
    env: ["KLUSTRE_ALLOW_SUID_DEV_VOLUMES"],
    kind: "boolean",
    defaultValue: "false",
    help:
      "true lets a volume's mountOptions ask for suid or dev; pods' binds are nosuid,nodev otherwise",
  },
  {
    key: "hostMountNamespace",
    flag: "host-mount-namespace",
    env: ["KLUSTRE_HOST_MOUNT_NAMESPACE"],
    kind: "string",
    defaultValue: "",
    help:
      "The host's mount namespace file (/proc/1/ns/mnt with hostPID): shared Lustre mounts then " +
      "live in a namespace pinned at <stateDir>/keeper/ns and survive restarts; empty turns it off",
  },
  {
    key: "hangProbeMs",
    flag: "hang-probe-ms",
    env: ["KLUSTRE_HANG_PROBE_MS"],
    kind: "duration",
    defaultValue: "10000",
    help: "How often a Lustre mount that stopped answering is probed again (one probe at a time)",
  },
];
