/**
 * Simulator state: the cluster description (`SimConfig`, what `up --state FILE` reads), the
 * faults switched on, and the runtime records the stand-ins share. Kept as one JSON file,
 * `DIR/state.json`, updated under an exclusive flock on `DIR/state.lock`.
 */

/** One simulated file system. */
export interface FileSystemConfig {
  /** Lustre fsname, 1-16 characters of `[A-Za-z0-9_-]` (real Lustre: 8). */
  name: string;
  /** tmpfs `size=` (bytes, or a number with a k/m/g suffix). */
  size: string;
  /** tmpfs `nr_inodes=`. */
  inodes: number;
  /** Number of MDTs and OSTs shown by `lfs df`. */
  mdts: number;
  osts: number;
  /** OST pools: name -> OST indices. */
  pools: Record<string, number[]>;
  /** When false, `lfs quota` answers "prj quotas are not enabled." (exit 3). */
  quotaEnabled: boolean;
  /**
   * Client encryption (fscrypt) works on it: backed by an ext4 image made with `-O encrypt`
   * on a loop device and served by plain binds (no bindfs; see encryptable.ts).
   */
  encryptable?: boolean;
}

/** The cluster description; `up --state FILE` reads this shape (every key optional). */
export interface SimConfig {
  version: string;
  modulesLoaded: boolean;
  /** NIDs of this client, printed by `lctl list_nids`. */
  clientNids: string[];
  /** MGS nodes in failover order; each node has one or more NIDs. */
  mgsNodes: string[][];
  /** Host name -> IPv4 address, used to resolve `HOST@tcp` NIDs. */
  hosts: Record<string, string>;
  fileSystems: FileSystemConfig[];
}

/** Faults, switched by `lustre-sim fault`. */
export interface Faults {
  /** MGS unreachable: `nids` null means every MGS NID. */
  mgsDown: { nids: string[] | null; delayMs: number } | null;
  /** Stand-ins (`mount.lustre`, `lfs`, `lctl`) that block forever. */
  hang: string[];
  /** Extra delay before a stand-in runs. */
  slow: { cmds: string[]; delayMs: number } | null;
  /** File systems whose FUSE daemons are stopped (SIGSTOP): every access blocks. */
  frozen?: string[];
  /** File systems whose exports squash root: new files owned by 65534, chown refused. */
  rootSquash?: string[];
}

/** A bindfs daemon serving a file system. */
export interface ExportInfo {
  fs: string;
  path: string;
  pid: number;
  /** `major:minor` of the FUSE superblock. */
  dev: string;
  kind: "main" | "unique" | "retired";
  evicted: boolean;
}

/** A PCC dataset of one client instance. */
export interface PccDataset {
  path: string;
  rwid: number;
  roid: number;
  flags: number;
  rule: string;
}

/** One `mount.lustre` success. */
export interface ClientMount {
  mountId: number;
  target: string;
  fs: string;
  subdir: string;
  /** e.g. `ffff8881a2b3c000`; the llite instance is `<fs>-<instance>`. */
  instance: string;
  dev: string;
  options: string[];
  params: Record<string, string>;
  pcc: PccDataset[];
  startMs: number;
  /** Reads served from Lustre (`lustre-sim read`), shown as read_bytes in llite.*.stats. */
  reads?: { count: number; min: number; max: number; sum: number };
}

/** Quota limits in KiB (blocks) and inode counts; 0 = unlimited. */
export interface QuotaLimits {
  bsoft: number;
  bhard: number;
  isoft: number;
  ihard: number;
}

/** The keeper process of the namespace where `up` ran (see server_ns.ts). */
export interface ServerInfo {
  pid: number;
  /** Its mount namespace, as /proc/PID/ns/mnt reads ("mnt:[4026532177]"). */
  ns: string;
}

export interface Runtime {
  repo: string;
  root: string;
  /** Where exports are served; absent in states of older simulators (caller's namespace). */
  server?: ServerInfo;
  exports: ExportInfo[];
  mounts: ClientMount[];
  /** fsname -> "p:1000" / "u:0" / "g:0" -> limits. */
  quotas: Record<string, Record<string, QuotaLimits>>;
  /** `lctl set_param -P` entries, applied to matching instances now and at mount. */
  persistentParams: [string, string][];
  nextUnique: number;
}

export interface SimState extends SimConfig {
  faults: Faults;
  runtime: Runtime;
}

/** The default cluster: 2.15.6, two file systems behind a failover MGS pair. */
export const DEFAULT_CONFIG: Readonly<SimConfig> = Object.freeze({
  version: "2.15.6",
  modulesLoaded: true,
  clientNids: ["10.0.0.100@tcp"],
  mgsNodes: [["10.0.0.1@tcp"], ["10.0.0.2@tcp"]],
  hosts: { "mgs1": "10.0.0.1", "mgs2": "10.0.0.2" },
  fileSystems: [
    fsDefaults({ name: "fs1" }),
    fsDefaults({ name: "fs2" }),
  ],
});

function fsDefaults(fs: Partial<FileSystemConfig> & { name: string }): FileSystemConfig {
  return {
    size: "1g",
    inodes: 262144,
    mdts: 1,
    osts: 2,
    pools: {},
    quotaEnabled: true,
    ...fs,
  };
}

// Real Lustre allows 8 characters; the Klustre docs' example fsname "lustre-fs" has 9, so
// the simulator accepts up to 16 to run those examples unchanged.
const FSNAME_RE = /^[A-Za-z0-9_-]{1,16}$/;
const VERSION_RE = /^\d+\.\d+\.\d+$/;
const SIZE_RE = /^\d+[kmgKMG]?$/;

/**
 * Merges a user-supplied config over the defaults and checks it.
 * @throws TypeError when a field has the wrong shape
 */
export function parseConfig(input: unknown): SimConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError("State must be a JSON object");
  }
  const raw = input as Record<string, unknown>;
  const config: SimConfig = structuredClone({ ...DEFAULT_CONFIG }) as SimConfig;
  if (raw.version !== undefined) config.version = requireString(raw.version, "version", VERSION_RE);
  if (raw.modulesLoaded !== undefined) {
    config.modulesLoaded = requireBoolean(raw.modulesLoaded, "modulesLoaded");
  }
  if (raw.clientNids !== undefined) {
    config.clientNids = requireStrings(raw.clientNids, "clientNids");
  }
  if (raw.mgsNodes !== undefined) {
    if (!Array.isArray(raw.mgsNodes) || raw.mgsNodes.length === 0) {
      throw new TypeError(`"mgsNodes" must be a non-empty array of NID arrays`);
    }
    config.mgsNodes = raw.mgsNodes.map((n, i) => requireStrings(n, `mgsNodes[${i}]`));
  }
  if (raw.hosts !== undefined) {
    if (typeof raw.hosts !== "object" || raw.hosts === null) {
      throw new TypeError(`"hosts" must be an object`);
    }
    config.hosts = Object.fromEntries(
      Object.entries(raw.hosts).map(([k, v]) => [k, requireString(v, `hosts.${k}`)]),
    );
  }
  if (raw.fileSystems !== undefined) {
    if (!Array.isArray(raw.fileSystems) || raw.fileSystems.length === 0) {
      throw new TypeError(`"fileSystems" must be a non-empty array`);
    }
    config.fileSystems = raw.fileSystems.map((f, i) => parseFileSystem(f, i));
    const names = new Set(config.fileSystems.map((f) => f.name));
    if (names.size !== config.fileSystems.length) {
      throw new TypeError(`"fileSystems" has duplicate names`);
    }
  }
  return config;
}

function parseFileSystem(input: unknown, index: number): FileSystemConfig {
  const where = `fileSystems[${index}]`;
  if (typeof input !== "object" || input === null) {
    throw new TypeError(`"${where}" must be an object`);
  }
  const raw = input as Record<string, unknown>;
  const fs = fsDefaults({ name: requireString(raw.name, `${where}.name`, FSNAME_RE) });
  if (raw.size !== undefined) fs.size = requireString(String(raw.size), `${where}.size`, SIZE_RE);
  if (raw.inodes !== undefined) fs.inodes = requireCount(raw.inodes, `${where}.inodes`, 64);
  if (raw.mdts !== undefined) fs.mdts = requireCount(raw.mdts, `${where}.mdts`, 1);
  if (raw.osts !== undefined) fs.osts = requireCount(raw.osts, `${where}.osts`, 1);
  if (raw.quotaEnabled !== undefined) {
    fs.quotaEnabled = requireBoolean(raw.quotaEnabled, `${where}.quotaEnabled`);
  }
  if (raw.encryptable !== undefined) {
    fs.encryptable = requireBoolean(raw.encryptable, `${where}.encryptable`);
  }
  if (raw.pools !== undefined) {
    if (typeof raw.pools !== "object" || raw.pools === null) {
      throw new TypeError(`"${where}.pools" must be an object`);
    }
    fs.pools = Object.fromEntries(
      Object.entries(raw.pools).map(([k, v]) => {
        if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n) && n >= 0 && n < fs.osts)) {
          throw new TypeError(`"${where}.pools.${k}" must list OST indices below ${fs.osts}`);
        }
        return [k, v as number[]];
      }),
    );
  }
  return fs;
}

function requireString(v: unknown, name: string, re?: RegExp): string {
  if (typeof v !== "string" || (re && !re.test(v))) {
    throw new TypeError(`"${name}" is invalid: ${JSON.stringify(v)}`);
  }
  return v;
}

function requireStrings(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === "string")) {
    throw new TypeError(`"${name}" must be a non-empty array of strings`);
  }
  return v;
}

function requireBoolean(v: unknown, name: string): boolean {
  if (typeof v !== "boolean") throw new TypeError(`"${name}" must be true or false`);
  return v;
}

function requireCount(v: unknown, name: string, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new TypeError(`"${name}" must be an integer >= ${min}`);
  }
  return v;
}

/** Paths of one simulator root. */
export function simPaths(root: string) {
  return {
    root,
    bin: `${root}/bin`,
    state: `${root}/state.json`,
    lock: `${root}/state.lock`,
    calls: `${root}/calls.jsonl`,
    srv: `${root}/srv`,
    sysDir: `${root}/sys/fs/lustre`,
    sysVersion: `${root}/sys/fs/lustre/version`,
    /** The tmpfs; the space is deliberate (bindfs 1.14 honours -o fsname only then). */
    /** The tmpfs holding a file system; its root directory is the subdirectory `backing(fs)`. */
    tmpfs: (fs: string) => `${root}/srv/${fs}/backing store`,
    /**
     * The file system's root directory. It is a subdirectory of the served tmpfs so that no
     * client mount shows root "/" on the export's device, as on a real client (no server mount).
     */
    backing: (fs: string) => `${root}/srv/${fs}/backing store/${fs}`,
    export: (fs: string, generation: number) =>
      generation === 0 ? `${root}/srv/${fs}/export` : `${root}/srv/${fs}/export.${generation}`,
    unique: (fs: string, n: number) => `${root}/srv/${fs}/unique/${n}`,
  };
}

/** Reads `DIR/state.json`, or null when there is none. */
export function readState(root: string): SimState | null {
  try {
    return JSON.parse(Deno.readTextFileSync(simPaths(root).state)) as SimState;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Writes the state atomically (temp file + rename). */
export function writeState(root: string, state: SimState): void {
  const path = simPaths(root).state;
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  Deno.renameSync(tmp, path);
}

/**
 * Runs `fn` on the current state under the state lock and saves what it returns.
 * @throws Error when the simulator is not up
 */
export function updateState<T>(root: string, fn: (state: SimState) => T): T {
  const lock = Deno.openSync(simPaths(root).lock, { create: true, write: true });
  try {
    lock.lockSync(true);
    const state = readState(root);
    if (!state) throw new Error(`No simulator is up at "${root}"`);
    const result = fn(state);
    writeState(root, state);
    return result;
  } finally {
    lock.close();
  }
}

/** The bindfs fsname of a file system: the canonical first MGS NID plus `:/fsname`. */
export function canonicalSource(config: SimConfig, fs: string): string {
  return `${config.mgsNodes[0][0]}:/${fs}`;
}
