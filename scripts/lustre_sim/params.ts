/**
 * `lctl` tunables: `version`, per client instance `llite.<fs>-<inst>.*` and per OST
 * `osc.<fs>-OSTxxxx-osc-<inst>.*`, with 2.15-like defaults. Values live in the client mount
 * record (`params`), so they vanish at unmount like the real ones.
 */
import type { ClientMount, SimState } from "./state.ts";

interface ParamDef {
  def: string;
  /** Inclusive integer range; null for the read-only or special ones. */
  range: [number, number] | null;
}

/** llite tunables and defaults (max_read_ahead_mb is min(RAM/32, 1024) on a real client). */
export const LLITE_PARAMS: Record<string, ParamDef> = {
  max_read_ahead_mb: { def: "256", range: [0, 1 << 20] },
  max_read_ahead_per_file_mb: { def: "64", range: [0, 1 << 20] },
  max_read_ahead_whole_mb: { def: "64", range: [0, 1 << 20] },
  statahead_max: { def: "32", range: [0, 8192] },
  statahead_agl: { def: "1", range: [0, 1] },
  lazystatfs: { def: "1", range: [0, 1] },
  checksum_pages: { def: "1", range: [0, 1] },
  xattr_cache: { def: "1", range: [0, 1] },
  fast_read: { def: "1", range: [0, 1] },
  stats: { def: "", range: null },
};

/** osc tunables and defaults. */
export const OSC_PARAMS: Record<string, ParamDef> = {
  max_rpcs_in_flight: { def: "8", range: [1, 512] },
  max_dirty_mb: { def: "2000", range: [0, 1 << 20] },
  max_pages_per_rpc: { def: "1024", range: [1, 16384] },
  checksums: { def: "1", range: [0, 1] },
  short_io_bytes: { def: "16384", range: [0, 1 << 20] },
  grant_shrink: { def: "1", range: [0, 1] },
};

/** One tunable of one instance. */
export interface Param {
  name: string;
  /** `/sys/fs/lustre/...` path, for error messages. */
  sysPath: string;
  record: ClientMount | null;
  def: ParamDef;
}

function ostName(fs: string, index: number): string {
  return `${fs}-OST${index.toString(16).padStart(4, "0")}`;
}

/** Every tunable of one client instance. */
export function instanceParams(state: SimState, record: ClientMount): Param[] {
  const inst = `${record.fs}-${record.instance}`;
  const params: Param[] = [];
  for (const [key, def] of Object.entries(LLITE_PARAMS)) {
    params.push({
      name: `llite.${inst}.${key}`,
      sysPath: `/sys/fs/lustre/llite/${inst}/${key}`,
      record,
      def,
    });
  }
  const osts = state.fileSystems.find((f) => f.name === record.fs)?.osts ?? 1;
  for (let i = 0; i < osts; i++) {
    const dev = `${ostName(record.fs, i)}-osc-${record.instance}`;
    for (const [key, def] of Object.entries(OSC_PARAMS)) {
      params.push({
        name: `osc.${dev}.${key}`,
        sysPath: `/sys/fs/lustre/osc/${dev}/${key}`,
        record,
        def,
      });
    }
  }
  return params;
}

/** Matches a glob segment (`*`, `?`, `[...]`) like fnmatch. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += "[^.]*";
    else if (c === "?") re += "[^.]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Normalises `llite/*\/x` to `llite.*.x`. */
export function normalisePattern(pattern: string): string {
  return pattern.replaceAll("/", ".");
}

/** True when a dotted parameter name matches a dotted glob. */
export function matchParam(pattern: string, name: string): boolean {
  return globToRegExp(normalisePattern(pattern)).test(name);
}

/** The current value of a tunable (multi-line for stats). */
export function paramValue(p: Param): string {
  if (p.def.range === null && p.name.endsWith(".stats")) {
    const now = Date.now() / 1000;
    const start = (p.record?.startMs ?? Date.now()) / 1000;
    const row = (label: string, v: number) => `${label.padEnd(25)} ${v.toFixed(9)} secs.nsecs`;
    const reads = p.record?.reads;
    return [
      "",
      row("snapshot_time", now),
      row("start_time", start),
      row("elapsed_time", now - start),
      // Zero-count counters are omitted, as by the kernel.
      ...(reads && reads.count > 0
        ? [
          `${
            "read_bytes".padEnd(25)
          } ${reads.count} samples [bytes] ${reads.min} ${reads.max} ${reads.sum}`,
        ]
        : []),
    ].join("\n");
  }
  return p.record?.params[p.name] ?? p.def.def;
}

/** Initial overrides for a new instance: the matching `set_param -P` entries. */
export function defaultParams(
  state: SimState,
  fs: string,
  instance: string,
): Record<string, string> {
  const stub: ClientMount = {
    mountId: 0,
    target: "",
    fs,
    subdir: "",
    instance,
    dev: "",
    options: [],
    params: {},
    pcc: [],
    startMs: Date.now(),
  };
  const out: Record<string, string> = {};
  for (const p of instanceParams(state, stub)) {
    for (const [pattern, value] of state.runtime.persistentParams) {
      if (matchParam(pattern, p.name)) out[p.name] = value;
    }
  }
  return out;
}
