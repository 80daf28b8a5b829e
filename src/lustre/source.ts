/**
 * Lustre client sources: `MGSNODE[:MGSNODE...]:/FSNAME[/SUBDIR]`, where a
 * node is one or more comma-separated NIDs (`10.0.0.1@tcp0,10.1.0.1@o2ib`).
 */

/** A parsed, canonical Lustre source. */
export interface LustreSource {
  /** MGS nodes in failover order, each a list of canonical NIDs. */
  readonly mgsNodes: readonly (readonly string[])[];
  readonly fsName: string;
  /** Directory inside the file system, "/" for the root. */
  readonly subdir: string;
  /** Canonical source of the file system root: `10.0.0.1@tcp:/fs1`. */
  readonly fsSource: string;
}

const NET_TYPES = ["tcp", "o2ib", "kfi", "gni", "gip", "ptlf", "efa", "bxi3f", "lo"];
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FS_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_SOURCE_LENGTH = 1024;

/**
 * Parses and canonicalises a source (`@tcp0` becomes `@tcp`).
 * @throws SyntaxError saying what is wrong with the value
 */
export function parseLustreSource(text: string): LustreSource {
  if (text.length > MAX_SOURCE_LENGTH) {
    throw new SyntaxError(`it is longer than ${MAX_SOURCE_LENGTH} characters`);
  }
  const split = text.indexOf(":/");
  if (split <= 0) throw new SyntaxError("it is not MGSNID[:MGSNID...]:/fsname[/subdir]");
  const mgsNodes = text.slice(0, split).split(":").map((node) => {
    if (node === "") throw new SyntaxError("it has an empty MGS node");
    return node.split(",").map(canonicalNid);
  });
  const [fsName, ...segments] = text.slice(split + 2).split("/");
  if (!FS_NAME.test(fsName)) {
    throw new SyntaxError(`file system name "${fsName}" is not 1 to 32 of A-Z a-z 0-9 _ -`);
  }
  const trimmed = segments.at(-1) === "" ? segments.slice(0, -1) : segments;
  const subdir = "/" + trimmed.map(requireSegment).join("/");
  const nodes = mgsNodes.map((nids) => nids.join(",")).join(":");
  return { mgsNodes, fsName, subdir, fsSource: `${nodes}:/${fsName}` };
}

/** True when a text (e.g. a mountinfo source) reads as a Lustre client source. */
export function isLustreSource(text: string): boolean {
  try {
    parseLustreSource(text);
    return true;
  } catch {
    return false;
  }
}

/** Formats a source back to text, with a subdir when it is not the root. */
export function formatLustreSource(source: LustreSource): string {
  return source.subdir === "/" ? source.fsSource : `${source.fsSource}${source.subdir}`;
}

/**
 * Canonical form of one NID: net number 0 is dropped (`tcp0` → `tcp`).
 * @throws SyntaxError naming the NID
 */
export function canonicalNid(nid: string): string {
  const at = nid.lastIndexOf("@");
  if (at <= 0) throw new SyntaxError(`NID "${nid}" is not ADDRESS@NETWORK`);
  const address = nid.slice(0, at);
  const match = /^([a-z0-9]+?)(\d*)$/.exec(nid.slice(at + 1));
  if (!match || !NET_TYPES.includes(match[1])) {
    throw new SyntaxError(`NID "${nid}" has an unknown network type (${NET_TYPES.join(", ")})`);
  }
  const isLoopback = match[1] === "lo" && address === "0";
  if (!isLoopback && !IPV4.test(address) && !HOSTNAME.test(address)) {
    throw new SyntaxError(`NID "${nid}" has an address that is neither IPv4 nor a host name`);
  }
  const number = match[2] === "" ? 0 : Number(match[2]);
  return `${address}@${match[1]}${number === 0 ? "" : number}`;
}

/**
 * Checks one path segment of a directory inside Lustre.
 * @throws SyntaxError for "", ".", "..", control characters or an over-long name
 */
export function requireSegment(segment: string): string {
  if (segment === "" || segment === "." || segment === "..") {
    throw new SyntaxError(`path segment "${segment}" is not allowed`);
  }
  // deno-lint-ignore no-control-regex -- control characters are what we refuse
  if (/[\u0000-\u001f\u007f]/.test(segment)) {
    throw new SyntaxError(`path segment "${segment}" holds a control character`);
  }
  if (new TextEncoder().encode(segment).length > 255) {
    throw new SyntaxError(`path segment "${segment.slice(0, 32)}..." is longer than 255 bytes`);
  }
  return segment;
}

/**
 * Parses a relative directory ("a/b"); no "..", no absolute path.
 * @throws SyntaxError saying what is wrong
 */
export function parseSubdir(text: string): string {
  if (text.startsWith("/")) {
    throw new SyntaxError("it is an absolute path; give it relative to the source");
  }
  const segments = text.split("/").filter((s, i, all) => !(s === "" && i === all.length - 1));
  return "/" + segments.map(requireSegment).join("/");
}

/** Joins two absolute in-fs directories ("/a" + "/b" = "/a/b"). */
export function joinDirs(base: string, sub: string): string {
  if (sub === "/") return base;
  return base === "/" ? sub : `${base}${sub}`;
}
