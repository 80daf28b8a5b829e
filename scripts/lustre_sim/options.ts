/** Lustre client mount options (facts 1.3): what the helper, the client and the kernel accept. */

/** Compares dotted versions: negative, 0 or positive like `a - b`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Flags handled by mount.lustre itself (opt_map); never passed to Lustre. */
const HELPER_FLAGS = new Set([
  "defaults",
  "remount",
  "rw",
  "ro",
  "exec",
  "noexec",
  "suid",
  "nosuid",
  "dev",
  "nodev",
  "sync",
  "async",
  "atime",
  "noatime",
  "diratime",
  "nodiratime",
  "relatime",
  "norelatime",
  "strictatime",
  "auto",
  "noauto",
  "nousers",
  "nouser",
  "noowner",
  "_netdev",
  "loop",
]);

/** Options the 2.15 client and lmd_parse accept (plain words). */
const CLIENT_WORDS = new Set([
  "flock",
  "localflock",
  "noflock",
  "user_xattr",
  "nouser_xattr",
  "lazystatfs",
  "nolazystatfs",
  "checksum",
  "nochecksum",
  "lruresize",
  "nolruresize",
  "verbose",
  "noverbose",
  "user_fid2path",
  "nouser_fid2path",
  "always_ping",
  "32bitapi",
  "nolock",
  "encrypt",
  "noencrypt",
  "test_dummy_encryption",
  "acl",
  "noacl",
  "force",
  "nosvc",
  "nomgs",
  "noclient",
  "abort_recov",
  "skip_lfsck",
  "noscrub",
]);

/** Options of the form key=value the 2.15 client accepts. */
const CLIENT_KEYS = new Set([
  "network",
  "exclude",
  "mgssec",
  "retry",
  "md_stripe_cache_size",
  "recovery_time_soft",
  "recovery_time_hard",
  "context",
  "fscontext",
  "defcontext",
  "rootcontext",
  "skpath",
]);

/** Options that need a newer client than 2.15.0: name -> first version with it. */
const VERSIONED: Record<string, string> = {
  unique_fsid: "2.15.8",
  statfs_project: "2.16.0",
  nostatfs_project: "2.16.0",
  mgsname: "2.17.0",
};

/** SELinux options the kernel's LSM layer takes from the mount data (value: a label). */
const SELINUX_KEYS = new Set(["context", "fscontext", "defcontext", "rootcontext"]);

/**
 * A value the kernel's option parser can take: bare without quotes or
 * commas, or wholly in double quotes (then commas are fine: s0:c0,c1).
 */
function validLabel(value: string): boolean {
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  const label = quoted ? value.slice(1, -1) : value;
  return label !== "" && !label.includes('"') && (quoted || !label.includes(","));
}

/**
 * Splits `-o` text on commas outside double quotes, as the kernel's SELinux
 * option parser does (context="system_u:object_r:t:s0:c0,c1" is one option).
 */
export function splitOptions(text: string): string[] {
  const options: string[] = [];
  let current = "";
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (char === "," && !quoted) {
      options.push(current);
      current = "";
    } else current += char;
  }
  options.push(current);
  return options;
}

/** The SELinux options of a parsed option list (they belong to the superblock). */
export function selinuxOptions(all: readonly string[]): string[] {
  return all.filter((o) => SELINUX_KEYS.has(o.slice(0, o.indexOf("="))));
}

/** Parsed `-o` string. */
export interface MountOptions {
  all: string[];
  /** Options the simulated kernel refuses ("Unknown option"). */
  unknown: string[];
  readOnly: boolean;
  remount: boolean;
  force: boolean;
  uniqueFsid: boolean;
  /** Per-mount flags to apply with `mount -o remount,bind,...`. */
  mountFlags: string[];
}

/** Splits and classifies a mount option string for a client of `version`. */
export function parseMountOptions(text: string, version: string): MountOptions {
  const all = splitOptions(text).filter((o) => o !== "");
  const unknown: string[] = [];
  let readOnly = false;
  let atime = "strictatime";
  const extra = new Set<string>();
  for (const opt of all) {
    const key = opt.includes("=") ? opt.slice(0, opt.indexOf("=")) : opt;
    if (HELPER_FLAGS.has(opt)) {
      if (opt === "ro") readOnly = true;
      if (opt === "rw") readOnly = false;
      if (opt === "noatime" || opt === "relatime") atime = opt;
      if (["nodiratime", "noexec", "nosuid", "nodev"].includes(opt)) extra.add(opt);
      continue;
    }
    if (opt in VERSIONED || key in VERSIONED) {
      if (compareVersions(version, VERSIONED[key]) < 0) unknown.push(opt);
      continue;
    }
    if (SELINUX_KEYS.has(key) && !validLabel(opt.slice(key.length + 1))) {
      unknown.push(opt);
      continue;
    }
    if (opt.includes("=") ? CLIENT_KEYS.has(key) : CLIENT_WORDS.has(opt)) continue;
    unknown.push(opt);
  }
  return {
    all,
    unknown,
    readOnly,
    remount: all.includes("remount"),
    force: all.includes("force"),
    uniqueFsid: all.includes("unique_fsid") && !unknown.includes("unique_fsid"),
    mountFlags: [readOnly ? "ro" : "rw", atime, ...extra],
  };
}
