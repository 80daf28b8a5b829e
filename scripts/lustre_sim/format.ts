/** printf-style helpers for the lfs/lctl output formats. */

/** `%Ns`: right-aligned in `width`. */
export function right(value: string | number, width: number): string {
  return String(value).padStart(width);
}

/** `%-Ns`: left-aligned in `width`. */
export function left(value: string | number, width: number): string {
  return String(value).padEnd(width);
}

/** C `%.Ng` for the magnitudes lfs prints (no exponent form below 10^N). */
export function formatG(value: number, precision: number): string {
  if (value === 0) return "0";
  let s = value.toPrecision(precision);
  if (s.includes("e")) return s;
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

/** lfs quota's kbytes2str(): KiB as a number, or `%5.4g` + P/T/G/M, or `Nk`, with -h. */
export function kbytesToString(kib: number, human: boolean): string {
  if (!human) return String(kib);
  const units: [number, string][] = [[2 ** 40, "P"], [2 ** 30, "T"], [2 ** 20, "G"], [
    2 ** 10,
    "M",
  ]];
  for (const [size, unit] of units) {
    if (kib >= size) return `${right(formatG(kib / size, 4), 5)}${unit}`;
  }
  return `${kib}k`;
}

/** lfs df's cooked value: `%8.1f` + K/M/G/... of `value` (bytes), or the plain number. */
export function cook(value: number, decimal: boolean): string {
  const base = decimal ? 1000 : 1024;
  const suffix = decimal ? "kMGTPEZY" : "KMGTPEZY";
  let v = value;
  let i = 0;
  while (v > base && i < 8) {
    v /= base;
    i++;
  }
  return i > 0 ? `${right(v.toFixed(1), 8)}${suffix[i - 1]}` : String(value);
}

/** Parses a size like `10`, `1.5g`, `4M`, `512b` into bytes; bare numbers are `unitBytes`. */
export function parseSize(text: string, unitBytes: number): number | null {
  const m = /^(\d+(?:\.\d+)?)([bckmgtpe]?)$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2].toLowerCase();
  const scale: Record<string, number> = {
    "": unitBytes,
    b: 1,
    c: 1,
    k: 2 ** 10,
    m: 2 ** 20,
    g: 2 ** 30,
    t: 2 ** 40,
    p: 2 ** 50,
    e: 2 ** 60,
  };
  return Math.floor(n * scale[suffix]);
}
