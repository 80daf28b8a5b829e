/**
 * The allow-list of Lustre client mount options, and how options from the
 * settings, the PV/StorageClass and the volume attribute combine.
 */

/** Options applied per mount (bind) by the VFS, not by the Lustre client. */
const VFS_FLAGS = new Set([
  "ro",
  "rw",
  "noatime",
  "atime",
  "relatime",
  "strictatime",
  "nodiratime",
  "diratime",
  "nosuid",
  "suid",
  "nodev",
  "dev",
  "noexec",
  "exec",
]);

/** Options the Lustre client (or mount.lustre) takes, without a value. */
const CLIENT_FLAGS = new Set([
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
  "statfs_project",
  "nostatfs_project",
  "encrypt",
  "noencrypt",
  "sync",
  "async",
  "unique_fsid",
]);

/** Options taking a value, with the pattern the value must match. */
const CLIENT_VALUES: Record<string, RegExp> = {
  network: /^[a-z][a-z0-9]*$/,
  exclude: /^[A-Za-z0-9_-]+(:[A-Za-z0-9_-]+)*$/,
  retry: /^[0-9]{1,2}$/,
  mgssec: /^(null|plain|gssnull|krb5n|krb5a|krb5i|krb5p|skn|ska|ski|skpi)$/,
};

/**
 * SELinux context options the kernel takes from mount.lustre: each picks a
 * label (`user:role:type[:level]`, the level may hold commas inside quotes).
 */
export const SELINUX_OPTIONS: readonly string[] = [
  "context",
  "fscontext",
  "defcontext",
  "rootcontext",
];

/** An SELinux label: user:role:type, then an optional MLS/MCS level like s0:c0,c1. */
const SELINUX_LABEL = /^[A-Za-z0-9_.]+:[A-Za-z0-9_.]+:[A-Za-z0-9_.]+(:[A-Za-z0-9_.:,-]+)?$/;

/** Options that are accepted and dropped: they mean nothing for a CSI mount. */
const IGNORED = new Set(["defaults", "_netdev", "auto", "noauto", "nofail"]);

/** Options refused with a reason, because they are dangerous or server-side. */
const REFUSED: Record<string, string> = {
  force: "it skips mount.lustre's already-mounted check",
  remount: "the driver decides when to remount",
  bind: "the driver makes its own bind mounts",
  rbind: "the driver makes its own bind mounts",
  move: "the driver makes its own mounts",
  loop: "Lustre clients do not use loop devices",
  user: "volumes are mounted by the driver, not users",
  users: "volumes are mounted by the driver, not users",
  abort_recov: "it is a server option",
  skip_lfsck: "it is a server option",
  noscrub: "it is a server option",
  nosvc: "it is a server option",
  nomgs: "it is a server option",
  noclient: "it is a server option",
};

/** Groups of options where the last one given wins. */
const FAMILIES: readonly (readonly string[])[] = [
  ["ro", "rw"],
  ["noatime", "atime", "relatime", "strictatime"],
  ["nodiratime", "diratime"],
  ["nosuid", "suid"],
  ["nodev", "dev"],
  ["noexec", "exec"],
  ["flock", "localflock", "noflock"],
  ["user_xattr", "nouser_xattr"],
  ["lazystatfs", "nolazystatfs"],
  ["checksum", "nochecksum"],
  ["lruresize", "nolruresize"],
  ["verbose", "noverbose"],
  ["user_fid2path", "nouser_fid2path"],
  ["statfs_project", "nostatfs_project"],
  ["encrypt", "noencrypt"],
  ["sync", "async"],
];

const MAX_OPTION_LENGTH = 128;

/**
 * Splits a comma list ("flock,user_xattr") into checked options; commas
 * inside double quotes (context="u:r:t:s0:c0,c1") do not split.
 * @throws RangeError naming the first refused option or an unbalanced quote
 */
export function parseMountOptionList(text: string): string[] {
  return requireMountOptions(splitOptionText(text).map((o) => o.trim()).filter((o) => o !== ""));
}

/**
 * Splits option text on the commas outside double quotes.
 * @throws RangeError naming the option whose quote is not closed
 */
export function splitOptionText(text: string): string[] {
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
  if (quoted) {
    throw new RangeError(`mount option "${current.trim()}" is refused: its quote is not closed`);
  }
  options.push(current);
  return options;
}

/**
 * Checks each option against the allow-list and drops the meaningless ones.
 * @throws RangeError naming the first refused option
 */
export function requireMountOptions(options: readonly string[]): string[] {
  const accepted: string[] = [];
  for (const option of options) {
    const reason = refusal(option);
    if (reason) throw new RangeError(`mount option "${option}" is refused: ${reason}`);
    if (!IGNORED.has(option)) accepted.push(canonicalSelinuxOption(option) ?? option);
  }
  return accepted;
}

/** Is `option` one of the SELinux context options (context=, fscontext=, ...)? */
export function isSelinuxOption(option: string): boolean {
  return SELINUX_OPTIONS.includes(option.split("=")[0]) && option.includes("=");
}

/**
 * An SELinux option in the one form the shared-mount key uses, the value
 * quoted as kubelet writes it (context="u:r:t:s0"); undefined for others.
 */
function canonicalSelinuxOption(option: string): string | undefined {
  if (!isSelinuxOption(option)) return undefined;
  const name = option.slice(0, option.indexOf("="));
  return `${name}="${unquote(option.slice(name.length + 1))}"`;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}

function selinuxRefusal(option: string): string | undefined {
  const name = option.slice(0, option.indexOf("="));
  const raw = option.slice(name.length + 1);
  const value = unquote(raw);
  if (value.includes('"')) return `the value of "${name}" has unbalanced or inner quotes`;
  if (value !== raw || !value.includes(",")) {
    if (SELINUX_LABEL.test(value)) return undefined;
    return `the value of "${name}" is not an SELinux label like "system_u:object_r:container_file_t:s0:c0,c1"`;
  }
  return `the value of "${name}" holds a comma: quote it (${name}="${value}")`;
}

function refusal(option: string): string | undefined {
  if (option.length > MAX_OPTION_LENGTH) return `it is longer than ${MAX_OPTION_LENGTH} characters`;
  if (isSelinuxOption(option)) return selinuxRefusal(option);
  if (!/^[A-Za-z0-9_.:=-]+$/.test(option)) return "it holds characters no Lustre option uses";
  const [name, ...rest] = option.split("=");
  if (name in REFUSED) return REFUSED[name];
  if (rest.length === 0) {
    if (VFS_FLAGS.has(name) || CLIENT_FLAGS.has(name) || IGNORED.has(name)) return undefined;
    if (name in CLIENT_VALUES) return `it needs a value (${name}=...)`;
    return "it is not a known Lustre client option";
  }
  const pattern = CLIENT_VALUES[name];
  if (!pattern) return "it is not a known Lustre client option that takes a value";
  if (!pattern.test(rest.join("="))) return `the value of "${name}" is not valid`;
  return undefined;
}

function familyOf(option: string): string {
  const name = option.split("=")[0];
  const family = FAMILIES.find((members) => members.includes(name));
  return family ? family[0] : name;
}

/**
 * Merges option layers, lowest precedence first: a later layer replaces an
 * earlier option of the same family (`noflock` replaces `flock`) and
 * otherwise adds to it. Returns options in a stable order.
 */
export function mergeMountOptions(layers: readonly (readonly string[])[]): string[] {
  const byFamily = new Map<string, string>();
  for (const layer of layers) {
    for (const option of layer) {
      const family = familyOf(option);
      byFamily.delete(family);
      byFamily.set(family, option);
    }
  }
  return [...byFamily.values()];
}

/** Splits merged options into per-mount VFS flags and Lustre client options. */
export function splitMountOptions(
  options: readonly string[],
): { vfs: string[]; client: string[] } {
  const vfs = options.filter((o) => VFS_FLAGS.has(o));
  const client = options.filter((o) => !VFS_FLAGS.has(o));
  return { vfs, client };
}
