/**
 * Persistent Client Cache ("Hot Nodes") parameters of a volume: `hotNodes`,
 * `pccCache`, `pccAutocache`, `pccPurgeHighUsage`, `pccPurgeLowUsage`,
 * `pccPurgeInterval`; the autocache rule checked as the kernel parses it
 * (lustre/llite/pcc.c), and combined with the volume's project ID.
 */

/** The volume attribute / StorageClass parameter names, with their defaults. */
export const PCC_KEYS: Readonly<Record<string, string>> = {
  hotNodes: "false",
  pccCache: "",
  pccAutocache: "",
  pccPurgeHighUsage: "90",
  pccPurgeLowUsage: "70",
  pccPurgeInterval: "30",
};

/** A volume's read-only PCC settings. */
export interface PccSpec {
  /** Absolute node-local directory holding the cached copies. */
  readonly cache: string;
  /** Autocache rule as given (e.g. `fname={*.h5}`), "" for every file of the volume. */
  readonly rule: string;
  /** Percent of the cache file system used above which the purge starts. */
  readonly highUsage: number;
  /** Percent it purges down to. */
  readonly lowUsage: number;
  /** Seconds between purge checks. */
  readonly intervalS: number;
}

const RULE_KEYS = new Set(["uid", "gid", "projid", "fname", "size"]);

/**
 * Checks a rule like `projid={500 600}&fname={*.h5},uid={1001}` or
 * `projid={100}&size>{1M}&size<{500G}` (lctl-pcc(8)): `,` is OR, `&` is AND,
 * each term `KEY={V V ...}`, or `KEY<{V}` / `KEY>{V}` for numbers; KEY uid,
 * gid, projid (numbers), size (bytes, K/M/G/T/P suffix) or fname (shell
 * patterns, `=` only).
 * @throws TypeError saying which term is wrong
 */
export function checkRule(rule: string): void {
  for (const conj of rule.split(",")) {
    if (conj === "") throw new TypeError(`rule "${rule}" has an empty alternative (",,")`);
    for (const term of conj.split("&")) {
      const m = /^([a-z]+)([=<>])\{([^{}]+)\}$/.exec(term);
      if (!m) throw new TypeError(`rule term "${term}" is not KEY={VALUE ...} or KEY<{N}, KEY>{N}`);
      const [, key, op, list] = m;
      if (!RULE_KEYS.has(key)) {
        throw new TypeError(
          `rule term "${term}": key "${key}" is not uid, gid, projid, size or fname`,
        );
      }
      const values = list.split(" ").filter((v) => v !== "");
      if (values.length === 0) throw new TypeError(`rule term "${term}" has no value`);
      if (op !== "=" && (key === "fname" || values.length !== 1)) {
        throw new TypeError(`rule term "${term}": "${op}" takes one number, not for fname`);
      }
      const number = key === "size" ? /^\d+[KMGTP]?$/i : /^\d+$/;
      if (key !== "fname" && !values.every((v) => number.test(v) && parseInt(v) <= 0xffffffff)) {
        throw new TypeError(`rule term "${term}": ${key} values must be numbers`);
      }
    }
  }
}

/**
 * The volume's PCC settings, or undefined when `hotNodes` is not "true".
 * `value(key)` gives the attribute or parameter (the default when unset).
 * @throws TypeError naming the parameter
 */
export function parsePcc(value: (key: string) => string | undefined): PccSpec | undefined {
  const get = (key: string) => value(key) ?? PCC_KEYS[key];
  const hot = get("hotNodes");
  if (hot !== "true" && hot !== "false") {
    throw new TypeError(`parameter "hotNodes" "${hot}" is not "true" or "false"`);
  }
  if (hot === "false") {
    const stray = Object.keys(PCC_KEYS).find((k) => k !== "hotNodes" && value(k) !== undefined);
    if (stray) throw new TypeError(`parameter "${stray}" needs hotNodes: "true"`);
    return undefined;
  }
  const cache = get("pccCache");
  if (!/^\/[^\0]*[^/]$/.test(cache) || cache.split("/").some((s) => s === "." || s === "..")) {
    throw new TypeError(
      `parameter "pccCache" "${cache}" is not an absolute node-local directory (no trailing "/", no "..")`,
    );
  }
  const rule = get("pccAutocache");
  if (rule !== "") {
    try {
      checkRule(rule);
    } catch (error) {
      throw new TypeError(`parameter "pccAutocache" is refused: ${(error as Error).message}`);
    }
  }
  const high = percent("pccPurgeHighUsage", get("pccPurgeHighUsage"));
  const low = percent("pccPurgeLowUsage", get("pccPurgeLowUsage"));
  if (low >= high) {
    throw new TypeError(
      `parameter "pccPurgeLowUsage" ${low} must be below "pccPurgeHighUsage" ${high}`,
    );
  }
  const interval = get("pccPurgeInterval");
  const intervalS = /^\d+$/.test(interval) ? Number(interval) : NaN;
  if (!(intervalS >= 1 && intervalS <= 86400)) {
    throw new TypeError(`parameter "pccPurgeInterval" "${interval}" is not 1 to 86400 seconds`);
  }
  return { cache, rule, highUsage: high, lowUsage: low, intervalS };
}

function percent(name: string, text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 100)) throw new TypeError(`parameter "${name}" "${text}" is not 1 to 100`);
  return n;
}

/**
 * The rule limited to project `projid`: `&projid={N}` is added to each
 * alternative (`fname={*.h5}` -> `fname={*.h5}&projid={N}`); an empty rule
 * becomes `projid={N}`.
 */
export function ruleForProject(rule: string, projid: number): string {
  if (rule === "") return `projid={${projid}}`;
  return rule.split(",").map((conj) => `${conj}&projid={${projid}}`).join(",");
}

/** The `--param` of `lctl pcc add` for a read-only dataset: `RULE roid=N ropcc=1`. */
export function pccAddParam(rules: readonly string[], roid: number): string {
  return `${rules.join(",")} roid=${roid} ropcc=1`;
}

/** The dataset's archive ID for a cache directory: stable, 1 to 65535. */
export function roidOf(cache: string): number {
  let h = 0;
  for (const c of new TextEncoder().encode(cache)) h = (h * 31 + c) >>> 0;
  return (h % 65535) + 1;
}
