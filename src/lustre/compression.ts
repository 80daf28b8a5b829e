/**
 * Client-side data compression (Lustre 2.17): the `compression` StorageClass
 * parameter (`lz4:3`, `zstd`, `none`), the optional `compressionChunk`, the
 * `lfs setstripe --compress TYPE[:LEVEL] --compress-chunk SIZE` arguments, and
 * the client version it needs.
 */
import { compareVersions } from "./client_check.ts";

/** First Lustre client with client-side data compression. */
export const COMPRESSION_VERSION = "2.17.0";

/** Algorithms `lfs setstripe --compress` takes. */
export const COMPRESSION_TYPES: readonly string[] = [
  "none",
  "gzip",
  "lz4",
  "lz4fast",
  "lz4hc",
  "lzo",
  "zstd",
  "zstdfast",
];

/**
 * Checks `TYPE[:LEVEL]` (level 0-15, the layout keeps 4 bits of it).
 * @throws Error saying what is wrong
 */
export function checkCompression(text: string): void {
  const m = /^([a-z0-9]+)(?::(\d+))?$/.exec(text);
  if (!m || !COMPRESSION_TYPES.includes(m[1])) {
    throw new Error(`it is not TYPE[:LEVEL] with TYPE one of ${COMPRESSION_TYPES.join(", ")}`);
  }
  if (m[2] !== undefined && Number(m[2]) > 15) throw new Error("the level must be 0 to 15");
}

/**
 * Checks a chunk size like `64K` or `1M`: a power of two from 64 KiB to 2 GiB.
 * @throws Error saying what is wrong
 */
export function checkCompressionChunk(text: string): void {
  const m = /^(\d+)([KkMmGg])$/.exec(text);
  const units: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
  const bytes = m ? Number(m[1]) * units[m[2].toLowerCase()] : NaN;
  if (!(bytes >= 65536 && bytes <= 2 ** 31) || (bytes & (bytes - 1)) !== 0) {
    throw new Error("it is not a power of two from 64K to 2G, with a K, M or G suffix");
  }
}

/** `--compress TYPE[:LEVEL] [--compress-chunk SIZE]` for lfs setstripe. */
export function compressionArgs(compression: string, chunk?: string): string[] {
  return ["--compress", compression, ...(chunk ? ["--compress-chunk", chunk] : [])];
}

/**
 * Why a client of `version` cannot use `compression`, or undefined when it can
 * (2.17 or newer).
 */
export function compressionRefusal(compression: string, version: string): string | undefined {
  if (version !== "" && compareVersions(version, COMPRESSION_VERSION) >= 0) return undefined;
  return `compression "${compression}" needs client-side data compression, which Lustre ` +
    `clients have from ${COMPRESSION_VERSION}; this client is ${version || "of unknown version"}`;
}
