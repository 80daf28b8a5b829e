/**
 * Client tunables (`lustreParams`): the allow-list of client-side `lctl`
 * parameters a volume may set, their value ranges, and the `lctl set_param`
 * arguments that apply them to one client instance only.
 */

/** Where a tunable lives: the llite (mount) device or each OSC of the instance. */
export type ParamFamily = "llite" | "osc";

/** One allowed tunable: its family and its inclusive integer range. */
export interface AllowedParam {
  readonly family: ParamFamily;
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** What it does, for the docs and the error messages. */
  readonly help: string;
}

/** The allow-list: client-side tunables that only change this client's behaviour. */
export const ALLOWED_PARAMS: readonly AllowedParam[] = [
  p("llite", "max_read_ahead_mb", 0, 1 << 20, "read-ahead cache of the instance, MiB"),
  p("llite", "max_read_ahead_per_file_mb", 0, 1 << 20, "read-ahead per file, MiB"),
  p("llite", "max_read_ahead_whole_mb", 0, 1 << 20, "files up to this size are read whole, MiB"),
  p("llite", "statahead_max", 0, 8192, "entries fetched ahead by ls/stat of a directory"),
  p("llite", "statahead_agl", 0, 1, "asynchronous glimpse lock ahead (0/1)"),
  p("llite", "lazystatfs", 0, 1, "statfs does not wait for unreachable targets (0/1)"),
  p("llite", "checksum_pages", 0, 1, "checksum pages in memory (0/1)"),
  p("llite", "xattr_cache", 0, 1, "cache extended attributes (0/1)"),
  p("llite", "fast_read", 0, 1, "read cached pages without a lock round trip (0/1)"),
  p("osc", "max_rpcs_in_flight", 1, 512, "concurrent RPCs per OST"),
  p("osc", "max_dirty_mb", 0, 1 << 20, "dirty cache per OST, MiB"),
  p("osc", "max_pages_per_rpc", 1, 16384, "pages per bulk RPC"),
  p("osc", "checksums", 0, 1, "wire checksums of bulk data (0/1)"),
  p("osc", "short_io_bytes", 0, 1 << 20, "largest I/O sent inline in the RPC, bytes"),
  p("osc", "grant_shrink", 0, 1, "return unused grant to the OSTs (0/1)"),
];

function p(family: ParamFamily, name: string, min: number, max: number, help: string) {
  return { family, name, min, max, help };
}

/** A parsed tunable: `llite.max_read_ahead_mb=1024`. */
export interface ClientParam {
  readonly family: ParamFamily;
  readonly name: string;
  readonly value: number;
}

/** `llite.max_read_ahead_mb=1024`: the canonical text of a tunable. */
export function formatClientParam(param: ClientParam): string {
  return `${param.family}.${param.name}=${param.value}`;
}

/**
 * Parses `llite.max_read_ahead_mb=1024,osc.max_rpcs_in_flight=16` (commas or
 * spaces between entries; `llite.*.x` is the same as `llite.x`) into
 * canonical entries sorted by name. A tunable given twice keeps its last value.
 * @throws TypeError naming the refused entry and what is allowed
 */
export function parseClientParams(text: string): ClientParam[] {
  const byName = new Map<string, ClientParam>();
  for (const entry of text.split(/[\s,]+/).filter((e) => e !== "")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) {
      throw new TypeError(`"${entry}" is not NAME=VALUE (e.g. llite.max_read_ahead_mb=1024)`);
    }
    const path = entry.slice(0, eq).replace(/^(llite|osc)\.\*\./, "$1.");
    const raw = entry.slice(eq + 1);
    const allowed = ALLOWED_PARAMS.find((a) => `${a.family}.${a.name}` === path);
    if (!allowed) {
      throw new TypeError(
        `parameter "${path}" is not an allowed client tunable: use ${
          ALLOWED_PARAMS.map((a) => `${a.family}.${a.name}`).join(", ")
        }`,
      );
    }
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < allowed.min || value > allowed.max) {
      throw new TypeError(
        `parameter "${path}" value "${raw}" is not a whole number from ${allowed.min} to ${allowed.max}`,
      );
    }
    byName.set(path, { family: allowed.family, name: allowed.name, value });
  }
  return [...byName.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, v]) => v);
}

/** One client instance: the file system name and the instance (`ffff8881a2b3c000`). */
export interface ClientInstance {
  readonly fsName: string;
  readonly instance: string;
}

/**
 * `lctl set_param` arguments that set `params` on one client instance only:
 * `llite.<fs>-<instance>.<name>=<v>` and `osc.<fs>-*-osc-<instance>.<name>=<v>`.
 */
export function setParamArgs(at: ClientInstance, params: readonly ClientParam[]): string[] {
  return ["set_param", ...params.map((q) => `${paramPath(at, q)}=${q.value}`)];
}

/** The `lctl` path of a tunable on one instance (a glob over the OSCs for osc tunables). */
export function paramPath(at: ClientInstance, param: ClientParam): string {
  return param.family === "llite"
    ? `llite.${at.fsName}-${at.instance}.${param.name}`
    : `osc.${at.fsName}-*-osc-${at.instance}.${param.name}`;
}

/**
 * The instance from `lfs getname PATH` output (`fs1-ffff8881a2b3c000`,
 * perhaps followed by the mount point).
 * @throws Error when the output is not of that shape
 */
export function parseInstance(fsName: string, stdout: string): string {
  const token = stdout.trim().split(/\s+/)[0] ?? "";
  const prefix = `${fsName}-`;
  const instance = token.startsWith(prefix) ? token.slice(prefix.length) : "";
  if (!/^[0-9a-f]{4,32}$/.test(instance)) {
    throw new Error(`lfs getname printed "${stdout.trim()}", not "${fsName}-<instance>"`);
  }
  return instance;
}
